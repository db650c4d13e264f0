"""The model lifecycle in the admin: model versions (figures, the gate's verdict, an
audited activation) and the review app's audit records (visible to staff, never edited).

The ModelVersion admin lives here, not in ``inference``: activating records who did it
in the review app's audit trail (``services.model_activate``), and serving never
imports the review app. Re-predictions are also shown on each drawing's page
(``guessgame.game.admin``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from guessgame.review import services
from guessgame.review.models import ModelActivation, Reprediction
from inference.models import ModelVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    """An audit trail: listed and opened, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModelActivation)
class ModelActivationAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "kind", "from_version", "to_version", "changed_by", "note"]
    list_filter = ["kind", "changed_at"]
    search_fields = ["to_version__name", "from_version__name", "changed_by__username"]
    list_select_related = ["from_version", "to_version", "changed_by"]


@admin.register(Reprediction)
class RepredictionAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "requested_by",
        "drawing",
        "old_predicted_digit",
        "old_confidence",
        "old_model_version",
        "model_version",
    ]
    list_filter = ["requested_at", "model_version"]
    search_fields = ["requested_by__username"]
    list_select_related = ["requested_by", "drawing", "old_model_version", "model_version"]


def _metric(version: ModelVersion, *keys: str) -> str:
    value = version.metrics or {}
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return "–" if not isinstance(value, int | float) else f"{value:.4f}"


@admin.action(description="Activate the selected version (workers switch at once)")
def activate(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Choose exactly one version to activate.", messages.ERROR)
        return
    version = queryset.get()
    if not version.passed_gate:
        # An override needs a typed reason, which an admin action cannot ask for.
        modeladmin.message_user(
            request,
            format_html(
                "The gate did not accept {} ({}). Overrides, with a typed reason, are made on "
                'the <a href="{}#version-{}">Model versions</a> page.',
                version.name,
                version.gate_verdict,
                reverse("review:models"),
                version.pk,
            ),
            messages.ERROR,
        )
        return
    try:
        services.model_activate(version=version, by=request.user)
    except (services.ReviewError, PermissionDenied) as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return
    modeladmin.message_user(request, f"{version.name} is now the active model.", messages.SUCCESS)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "architecture",
        "mnist_accuracy",
        "canvas_accuracy",
        "players_accuracy",
        "gate_verdict",
        "created_at",
        "activated_at",
        "plots",
    ]
    list_filter = ["is_active", "architecture"]
    search_fields = ["name"]
    actions = [activate]
    readonly_fields = [
        "name",
        "architecture",
        "path",
        "is_active",
        "created_at",
        "activated_at",
        "metrics_summary",
        "gate_verdict",
        "plots",
        "metrics",
    ]
    fields = [*readonly_fields, "notes"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="MNIST test")
    def mnist_accuracy(self, obj: ModelVersion) -> str:
        return _metric(obj, "mnist_test_accuracy")

    @admin.display(description="canvas benchmark")
    def canvas_accuracy(self, obj: ModelVersion) -> str:
        return _metric(obj, "canvas_accuracy")

    @admin.display(description="players' hold-out")
    def players_accuracy(self, obj: ModelVersion) -> str:
        for comparison in obj.gate.get("comparisons", []):
            if comparison.get("set") == "players' hold-out" and comparison.get("candidate"):
                return f"{comparison['candidate']:.4f} ({comparison['size']} drawings)"
        return "–"

    @admin.display(description="gate")
    def gate_verdict(self, obj: ModelVersion) -> str:
        return obj.gate_verdict

    @admin.display(description="summary")
    def metrics_summary(self, obj: ModelVersion) -> str:
        return (
            f"MNIST test {self.mnist_accuracy(obj)}, canvas benchmark {self.canvas_accuracy(obj)}, "
            f"players' hold-out {self.players_accuracy(obj)}"
        )

    @admin.display(description="plots")
    def plots(self, obj: ModelVersion):
        return format_html(
            '<a href="{}#version-{}">metrics and plots</a>', reverse("review:models"), obj.pk
        )
