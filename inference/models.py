"""Model versions and their audit trail: the one place that knows which trained model
is active, and every change of it (``inference.lifecycle`` makes the changes)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

ACCEPTED = "accept"
"""The gate's verdict for a version that may go live (``guessgame.review.gate.ACCEPT``)."""
SHIPPED = "shipped"
NOT_GATED = "not gated"


class ModelVersion(models.Model):
    """A trained model on disk (``model.tflite`` + ``metrics.json`` + plots).

    At most one version is active; the database enforces it.
    """

    name = models.CharField(max_length=100, unique=True)
    architecture = models.CharField(max_length=50, blank=True)
    path = models.CharField(
        max_length=500, help_text="Folder with model.tflite, metrics.json and the plots."
    )
    metrics = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            )
        ]

    def __str__(self) -> str:
        return self.name + (" (active)" if self.is_active else "")

    @property
    def directory(self) -> Path:
        path = Path(self.path)
        return path if path.is_absolute() else settings.BASE_DIR / path

    @property
    def tflite_path(self) -> Path:
        return self.directory / "model.tflite"

    @property
    def gate(self) -> dict:
        """The gate's record (``guessgame.review.gate``) when a retrain judged this
        version: verdict, reason, and each comparison with its set and size; {} if none."""
        return (self.metrics or {}).get("gate") or {}

    @property
    def gate_verdict(self) -> str:
        """ "accept", "refuse", "not enough evidence yet", "shipped" (the repository's
        own model, judged when it was released) or "not gated" (trained elsewhere)."""
        from inference.registry import is_shipped

        if is_shipped(self):
            return SHIPPED
        return self.gate.get("verdict") or NOT_GATED

    @property
    def passed_gate(self) -> bool:
        """May go live without an override, and is a place "Roll back" may return to."""
        return self.gate_verdict in (ACCEPTED, SHIPPED)

    @classmethod
    def active(cls) -> ModelVersion | None:
        return cls.objects.filter(is_active=True).first()

    def activate(self) -> None:
        """Make this the active version; workers switch at their next prediction."""
        with transaction.atomic():
            # Lock the active row so two activations cannot both succeed half-way.
            list(ModelVersion.objects.select_for_update().filter(is_active=True))
            ModelVersion.objects.filter(is_active=True).exclude(pk=self.pk).update(is_active=False)
            self.is_active = True
            self.activated_at = timezone.now()
            self.save(update_fields=["is_active", "activated_at"])


class ModelActivation(models.Model):
    """One change of the active model version, never edited."""

    class Kind(models.TextChoices):
        ACTIVATE = "activate", "Activated by staff"
        OVERRIDE = "override", "Activated by staff over the gate"
        ROLLBACK = "rollback", "Rolled back by staff"
        RETRAIN = "retrain", "Activated by retrain"
        SHIPPED = "shipped", "Shipped model, activated at migrate"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Active before; empty when none was.",
    )
    to_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="activations"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for a retrain run from the command line or the shipped model.",
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.TextField(blank=True, help_text="Why, e.g. the retrain rule's decision.")

    class Meta:
        # The table review's migrations made, when this lived in the review app.
        db_table = "review_modelactivation"
        ordering = ["-changed_at", "-pk"]
        verbose_name = "model activation"

    def __str__(self) -> str:
        before = self.from_version.name if self.from_version else "none"
        return f"{self.get_kind_display()}: {before} -> {self.to_version.name}"
