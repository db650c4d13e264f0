"""Model versions in the admin: metrics at a glance, activate, and the plots page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from inference.models import ModelVersion


def _metric(version: ModelVersion, *keys: str) -> str:
    value = version.metrics or {}
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return "–" if not isinstance(value, int | float) else f"{value:.4f}"


@admin.action(description="Activate the selected version (workers switch at once)")
def activate(modeladmin, request, queryset):
    from guessgame.review import services

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
