"""The HTTP edge's error rules: the refusals code raises, and how each is answered.

Code below a view raises a :class:`Refusal` (a sentence for a person and a status); the
one place that turns it into an answer is ``JsonErrorsMiddleware.process_exception``:
``{"error": "..."}`` for scripts and the game's own fetch() calls, a page for a browser.

Some bad requests never reach a view: Django's CSRF middleware reads a POST's form
before any view runs (a multipart body it cannot parse is answered by ``handler400``, a
missing token by ``csrf_failure``), ``require_POST`` answers 405 by itself, and a 404
comes from ``get_object_or_404``. A script or the game's JavaScript should still get
``{"error": "..."}``, like every other 4xx of the API and the game; a browser page keeps
the HTML pages.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.views import csrf, defaults

from inference.preprocess import DrawingError

log = logging.getLogger(__name__)


class Refusal(Exception):
    """A request the app declines: ``str(refusal)`` is a sentence for the person who sent
    it, ``status`` the HTTP status (a subclass sets its own), ``retry_after`` the seconds
    after which trying again may work, ``fields`` more JSON beside ``"error"`` (where to
    look instead) and ``headers`` more headers (``Allow``)."""

    status = 400
    retry_after: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        fields: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


REFUSALS = (Refusal, DrawingError)
"""What the middleware answers as a refusal. ``DrawingError`` (a PNG or strokes that are no
drawing) is inference's own: ``inference.preprocess`` stays free of Django because training
reads pictures with it, so it cannot derive from :class:`Refusal`; it has the same
``status`` and sentence."""

DATABASE_RETRY_SECONDS = 5
"""Retry-After of the 503 a request gets while the database refuses connections."""


def rate_or_none(rate: str | None) -> str | None:
    """A rate setting (django-ratelimit's "120/m") as the limiter takes it: None when the
    operator turned it off ("off", "none", "0" or empty). The one reader of that rule."""
    value = (rate or "").strip()
    return None if value.lower() in {"off", "none", "0", ""} else value


def answers_json(view: Callable) -> Callable:
    """Mark a view that answers JSON whatever the client asks: its refusals, and the 405
    or 404 Django answers around it, are JSON too. Put it above the other decorators."""

    @functools.wraps(view)
    def marked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.answers_json = True
        return view(request, *args, **kwargs)

    return marked


def wants_json(request: HttpRequest) -> bool:
    """The API, a .json address, a view marked :func:`answers_json`, or a client that asks
    for JSON (the game's fetch() calls do)."""
    return (
        getattr(request, "answers_json", False)
        or request.path.startswith("/api/")
        or request.path.endswith(".json")
        or "application/json" in request.headers.get("Accept", "")
    )


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-ratelimit's RATELIMIT_VIEW and every view over its limit: a friendly 429,
    JSON for scripts and the game's fetch() calls."""
    if wants_json(request):
        return refused(request, Refusal(ERROR_MESSAGES[429], status=429))
    return HttpResponse(render_to_string("429.html", request=request), status=429)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {"error": "The request could not be read: send a well-formed form or PNG."},
            status=400,
        )
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: say what to send; Django's page for a browser."""
    if wants_json(request):
        return JsonResponse(
            {
                "error": "The CSRF check failed: send the csrftoken cookie's value in an "
                f"X-CSRFToken header ({reason.rstrip('.')})."
            },
            status=403,
        )
    return csrf.csrf_failure(request, reason=reason)


def refused(request: HttpRequest, refusal: Exception) -> HttpResponse:
    """The answer to a :data:`REFUSALS` exception: its sentence and status, as JSON or as a
    page. The page needs no request context (a body refused unread never reaches Django's
    middleware), like the 500 page."""
    status = getattr(refusal, "status", 400)
    if wants_json(request):
        response = JsonResponse({"error": str(refusal), **getattr(refusal, "fields", {})})
    else:
        page = render_to_string("refused.html", {"status": status, "message": str(refusal)})
        response = HttpResponse(page)
    response.status_code = status
    for name, value in getattr(refusal, "headers", {}).items():
        response[name] = value
    if getattr(refusal, "retry_after", None) is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def body_refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A request body refused unread (guessgame.body_limit), before Django runs."""
    response = refused(request, Refusal(message, status=status))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = str(len(response.content))
    return response


ERROR_MESSAGES = {
    400: "The request could not be read.",
    403: "You are not allowed to do this.",
    404: "Not found: there is nothing here, or it belongs to someone else.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
    429: "Too many requests: please wait a little and try again.",
    500: "Something broke on our side; please try again in a moment.",
    503: "The game is busy right now; please try again in a moment.",
}


class JsonErrorsMiddleware:
    """An error page (4xx, 5xx) that is not JSON becomes ``{"error": ...}`` for a JSON
    client. Outside the CSRF and axes middleware, so their refusals are covered too."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or isinstance(response, StreamingHttpResponse)
            or response.get("Content-Type", "").startswith("application/json")
            or not wants_json(request)
        ):
            return response
        message = ERROR_MESSAGES.get(response.status_code, f"{response.reason_phrase}.")
        if response.status_code == 405 and response.has_header("Allow"):
            message = f"This method is not allowed here: use {response['Allow']}."
        response.content = json.dumps({"error": message}).encode()
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Every refusal a view lets through is answered here (:func:`refused`). The
        database cannot be reached (down, restarting, or out of connections: "too
        many clients"): a 503 to retry, not a 500. Nothing was written: the transaction
        that failed was rolled back."""
        if isinstance(exception, REFUSALS):
            if getattr(exception, "status", 400) >= 500:
                log.warning(
                    "event=refused status=%s path=%s error=%r cause=%r",
                    exception.status, request.path, str(exception), exception.__cause__,
                )  # fmt: skip
            return refused(request, exception)
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("event=database_unavailable path=%s error=%s", request.path, exception)
        if wants_json(request):
            response = refused(request, Refusal(ERROR_MESSAGES[503], status=503))
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
        return response
