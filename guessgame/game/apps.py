from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "guessgame.game"
    label = "game"
    verbose_name = "The game"
