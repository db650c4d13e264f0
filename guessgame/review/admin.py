"""The review app's audit records in the admin: visible to staff, never edited.

Re-predictions are also shown on each drawing's page (``guessgame.game.admin``).
"""

from __future__ import annotations

from django.contrib import admin

from guessgame.review.models import ModelActivation, Reprediction


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
