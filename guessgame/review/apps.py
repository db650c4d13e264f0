from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "guessgame.review"
    label = "review"
    verbose_name = "Staff review"

    def ready(self) -> None:
        from guessgame.review.services import record_shipped_activation
        from inference.signals import shipped_model_activated

        shipped_model_activated.connect(record_shipped_activation, dispatch_uid="review-shipped")
