"""Django admin for the game: games and rounds read-only, players' accounts.

Drawings and the review decisions on them are staff review's (``guessgame.review.admin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from guessgame.admin import ReadOnlyInline, ViewOnly
from guessgame.game.models import Game, Round


class RoundInline(ReadOnlyInline):
    model = Round
    fields = ["number", "target", "started_at", "submitted_at", "points", "scored"]


@admin.register(Game)
class GameAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["pk", "player", "score", "started_at", "finished_at"]
    list_filter = ["started_at", "finished_at"]
    search_fields = ["player__username"]
    list_select_related = ["player"]
    inlines = [RoundInline]


@admin.register(Round)
class RoundAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["pk", "game", "number", "target", "points", "scored", "submitted_at"]
    list_filter = ["target", "scored"]
    search_fields = ["game__player__username"]
    list_select_related = ["game", "game__player"]


# --- players' accounts ---------------------------------------------------------------


class UsernameWhateverCaseForm(auth_forms.UserChangeForm):
    """Renaming a player to a case variant of another's name is a form error, not the
    IntegrityError of the database's unique index on LOWER(username)."""

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        others = get_user_model().objects.filter(username__iexact=username)
        if others.exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                "A user with that username already exists (usernames are unique whatever "
                "their case)."
            )
        return username


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class PlayerAdmin(auth_admin.UserAdmin):
    form = UsernameWhateverCaseForm
