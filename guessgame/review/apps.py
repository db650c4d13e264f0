from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "guessgame.review"
    label = "review"
    verbose_name = "Staff review"
