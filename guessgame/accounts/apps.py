from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign up, log in and out, change the password, delete the account. The accounts
    are Django's users; a guest's (``game.Guest``) belongs to the game that made it."""

    name = "guessgame.accounts"
    label = "accounts"
    verbose_name = "Accounts"
