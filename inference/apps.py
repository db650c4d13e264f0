from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Model serving"

    def ready(self) -> None:
        from inference.registry import ensure_shipped_model

        # A fresh database gets the model shipped in the repo as its active version,
        # so `make run` can guess at once.
        post_migrate.connect(ensure_shipped_model, sender=self)
