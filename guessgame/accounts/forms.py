"""Account forms: sign-up with a username other players will read on the leaderboard,
and the password that confirms deleting an account."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import RegexValidator

from guessgame.game.models import GUEST_PREFIX, is_guest

USERNAME_MIN = 3
USERNAME_MAX = 30

username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9_.-]+\Z",
    message="Use only letters, digits, and . _ - (no spaces).",
)


class SignupForm(UserCreationForm):
    """A username shown publicly, unique whatever its case, and a password twice."""

    username = forms.CharField(
        label="Username",
        min_length=USERNAME_MIN,
        max_length=USERNAME_MAX,
        validators=[username_validator],
        help_text=(
            f"{USERNAME_MIN} to {USERNAME_MAX} characters: letters, digits, and . _ -. "
            "Shown on the leaderboard."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    NAME_TAKEN = "That username is taken; please choose another."

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)

    def clean_username(self) -> str:
        """Case-insensitive, as the database's unique index on LOWER(username) is."""
        username = self.cleaned_data["username"]
        if username.lower().startswith(GUEST_PREFIX):
            raise forms.ValidationError(f'Names starting with "{GUEST_PREFIX}" are for guests.')
        # A guest signing up renames their own account: only other accounts can clash.
        others = get_user_model().objects.exclude(pk=self.instance.pk)
        if others.filter(username__iexact=username).exists():
            raise forms.ValidationError(self.NAME_TAKEN)
        return username


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autofocus": True})
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if is_guest(user):  # a guest has no password: the button is the confirmation
            del self.fields["password"]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password: nothing was deleted.")
        return password
