"""Accounts: sign up (a guest keeps their games), log in and out, change the password,
delete the account with its drawings. Thin views over Django's auth and the game's
services."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from guessgame.accounts.forms import AccountDeleteForm, SignupForm
from guessgame.errors import rate_limited, rate_or_none
from guessgame.game import services
from guessgame.game.models import Drawing, is_guest

log = logging.getLogger(__name__)


def _signup_rate(group: str, request: HttpRequest) -> str | None:
    return rate_or_none(settings.SIGNUP_RATE)


def _login_rate(group: str, request: HttpRequest) -> str | None:
    return rate_or_none(settings.LOGIN_RATE)


def _form_status(form: forms.Form) -> int:
    """400 for a form sent with errors (shown on the page again), 200 for a fresh one."""
    return 400 if form.is_bound and form.errors else 200


@ratelimit(key="ip", rate=_signup_rate, method="POST", block=False)
def signup(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return rate_limited(request)
    guest = is_guest(request.user)
    if request.user.is_authenticated and not guest:
        return redirect("home")
    # A guest signing up keeps their account, so their games (and this one) are kept.
    form = SignupForm(
        request.POST if request.method == "POST" else None,
        instance=request.user if guest else None,
    )
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                if guest:
                    services.guest_claimed(user=user)
        except IntegrityError:
            # Another sign-up took the name (in some case) after clean_username looked:
            # the unique index on LOWER(username) refused this one.
            form.add_error("username", SignupForm.NAME_TAKEN)
            return render(
                request,
                "registration/signup.html",
                {"form": form, "guest": guest, "next": next_url},
                status=400,
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if guest:
            messages.success(request, f"Welcome, {user.get_username()}! Your games are saved.")
        else:
            messages.success(request, f"Welcome, {user.get_username()}! Ready for a game?")
        return redirect(next_url or "home")
    return render(
        request,
        "registration/signup.html",
        {"form": form, "guest": guest, "next": next_url},
        status=_form_status(form),
    )


class InvalidFormIs400:
    """For Django's auth form views: a form sent with errors answers 400, errors shown."""

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LoginView(InvalidFormIs400, auth_views.LoginView):
    pass


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    pass


@ratelimit(key="ip", rate=_login_rate, method="POST", block=False)
def login_view(request: HttpRequest) -> HttpResponse:
    """Log in, at most settings.LOGIN_RATE attempts per client whatever the usernames.

    django-axes locks one username for one client after repeated failures; this limit
    stops one client from trying a password against many usernames.
    """
    if getattr(request, "limited", False):
        return rate_limited(request)
    return _login(request)


_login = LoginView.as_view()


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return render(request, "registration/logged_out.html")


@never_cache
@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """Ask for the password, then delete the account with every drawing it made."""
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=request.user)
    if form.is_bound and form.is_valid():
        count = services.account_delete(player=request.user)
        logout(request)
        messages.success(
            request, f"Your account and its {count} drawing{'s' * (count != 1)} are deleted."
        )
        return redirect("home")
    drawings = Drawing.objects.filter(player=request.user).count()
    return render(
        request,
        "registration/account_delete.html",
        {"form": form, "drawings": drawings},
        status=_form_status(form),
    )
