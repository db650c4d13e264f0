"""Staff review in the admin: players' drawings (filters on the true digit, bulk
approve / reject / relabel / re-predict), the audit trails, and model versions.

Review actions go through ``guessgame.review.services`` so each one is audited (who,
when, old and new status and label; for a re-prediction, the guess it replaced); the
review fields cannot be edited by hand. The ModelVersion admin lives here, not in
``inference``: activating records who did it in the review app's audit trail, and
serving never imports the review app.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from guessgame.admin import ReadOnlyAdmin, ReadOnlyInline
from guessgame.game.models import Drawing
from guessgame.review import services
from guessgame.review.models import Reprediction, ReviewDecision
from inference import lifecycle
from inference.models import ModelActivation, ModelVersion

CONFIDENCE_BANDS = {
    "low": ("below 0.5", Q(confidence__lt=0.5)),
    "medium": ("0.5 to 0.8", Q(confidence__gte=0.5, confidence__lt=0.8)),
    "high": ("0.8 to 0.95", Q(confidence__gte=0.8, confidence__lt=0.95)),
    "certain": ("0.95 and above", Q(confidence__gte=0.95)),
    "none": ("no guess", Q(confidence__isnull=True)),
}


class MisclassifiedFilter(admin.SimpleListFilter):
    """Right or wrong against the true digit: the reviewer's label when relabelled."""

    title = "model's guess"
    parameter_name = "misclassified"

    def lookups(self, request, model_admin):
        return [("yes", "Misclassified"), ("no", "Guessed right")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.misclassified()
        if self.value() == "no":
            return queryset.guessed_right()
        return queryset


class TrueLabelFilter(admin.SimpleListFilter):
    """The true digit (the reviewer's label when relabelled), as everywhere else: a
    drawing of a 3 relabelled to 8 is listed under 8."""

    title = "true digit"
    parameter_name = "truth"

    def lookups(self, request, model_admin):
        return [(str(digit), str(digit)) for digit in range(10)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and value.isascii() and value.isdigit() and int(value) <= 9:
            return queryset.labelled(int(value))
        return queryset


class ConfidenceBandFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in CONFIDENCE_BANDS.items()]

    def queryset(self, request, queryset):
        band = CONFIDENCE_BANDS.get(self.value())
        return queryset.filter(band[1]) if band else queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged by the player"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged (any reason)"), ("no", "Not flagged"), *Drawing.Flag.choices[1:]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            return queryset.exclude(flag=Drawing.Flag.NONE)
        if value == "no":
            return queryset.filter(flag=Drawing.Flag.NONE)
        if value in Drawing.Flag.values:
            return queryset.filter(flag=value)
        return queryset


def _run(modeladmin, request, label: str, call) -> None:
    """Run a review service and tell the reviewer what happened, in words."""
    try:
        done = call()
    except (services.ReviewError, PermissionDenied) as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return
    count = done if isinstance(done, int) else len(done.decisions)
    modeladmin.message_user(request, f"{label}: {count} drawing(s).", messages.SUCCESS)
    skipped = "" if isinstance(done, int) else done.skipped_sentence()
    if skipped:
        modeladmin.message_user(request, skipped, messages.WARNING)


def _review_action(name: str, description: str, done: str, call):
    """An admin action running ``call(drawings, staff_member)`` through a review service."""

    def action(modeladmin, request, queryset):
        _run(modeladmin, request, done, lambda: call(queryset, request.user))

    action.__name__ = name
    return admin.action(description=description)(action)


approve = _review_action(
    "approve", "Approve the label of the selected drawings", "Approved",
    lambda drawings, user: services.review_approve(drawings=drawings, reviewer=user),
)  # fmt: skip
reject = _review_action(
    "reject", "Reject the selected drawings (not a digit, abuse)", "Rejected",
    lambda drawings, user: services.review_reject(drawings=drawings, reviewer=user),
)  # fmt: skip
repredict = _review_action(
    "repredict", "Re-predict the selected drawings with the active model",
    "Queued for a new guess",
    lambda drawings, user: services.repredict(drawings=drawings, by=user),
)  # fmt: skip


def _relabel_action(digit: int):
    return _review_action(
        f"relabel_to_{digit}", f"Relabel the selected drawings to {digit}",
        f"Relabelled to {digit}",
        lambda drawings, user: services.review_relabel(
            drawings=drawings, label=digit, reviewer=user
        ),
    )  # fmt: skip


class DecisionInline(ReadOnlyInline):
    model = ReviewDecision
    fields = ["decided_at", "reviewer", "old_status", "new_status", "old_label", "new_label"]
    ordering = ["-decided_at", "-pk"]


class RepredictionInline(ReadOnlyInline):
    """Who asked for a new guess, when, and the guess it replaced."""

    model = Reprediction
    fk_name = "drawing"
    fields = [
        "requested_at",
        "requested_by",
        "old_predicted_digit",
        "old_confidence",
        "old_model_version",
        "model_version",
    ]
    ordering = ["-requested_at", "-pk"]


def _drawing_img(drawing: Drawing, px: int):
    """The drawing as the player drew it, ``px`` square, loaded as the list scrolls."""
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="Drawing {}" loading="lazy">',
        reverse("review:drawing_image", args=[drawing.pk]), px, px, drawing.pk,
    )  # fmt: skip


def _pixels_img(drawing: Drawing, px: int):
    """The model's 28x28 input, scaled to ``px`` square without smoothing (admin-pixels)."""
    return format_html(
        '<img class="admin-pixels" src="{}" width="{}" height="{}" alt="28x28 input">',
        reverse("review:drawing_pixels", args=[drawing.pk]), px, px,
    )  # fmt: skip


@admin.register(Drawing)
class DrawingAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "thumbnail",
        "model_input",
        "true_label",
        "guess",
        "confidence_shown",
        "player",
        "model_version",
        "created_at",
        "review_status",
        "flag",
    ]
    list_display_links = ["pk", "thumbnail"]
    list_filter = [
        MisclassifiedFilter,
        ConfidenceBandFilter,
        "review_status",
        TrueLabelFilter,
        "predicted_digit",
        "not_digit",
        "model_version",
        FlaggedFilter,
        "created_at",
    ]
    search_fields = ["player__username"]
    list_select_related = ["player", "model_version"]
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = [approve, *(_relabel_action(d) for d in range(10)), reject, repredict]
    inlines = [DecisionInline, RepredictionInline]
    fields = [
        "thumbnail_large",
        "model_input_large",
        "label",
        "predicted_digit",
        "not_digit",
        "confidence",
        "probabilities",
        "prediction_status",
        "model_version",
        "predicted_at",
        "player",
        "round",
        "created_at",
        "late",
        "blank",
        "flag",
        "flagged_at",
        "review_status",
        "reviewed_label",
        "reviewed_by",
        "reviewed_at",
        "strokes",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ["css/review.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_truth()
            .defer("image_png", "strokes", "probabilities")
        )

    def has_add_permission(self, request):
        return False

    @admin.display(description="drawing")
    def thumbnail(self, obj: Drawing):
        return _drawing_img(obj, 56)

    @admin.display(description="model saw")
    def model_input(self, obj: Drawing):
        return _pixels_img(obj, 28) if obj.pixels is not None else "–"

    @admin.display(description="drawing")
    def thumbnail_large(self, obj: Drawing):
        return _drawing_img(obj, 225)

    @admin.display(description="the 28x28 image the model saw")
    def model_input_large(self, obj: Drawing):
        return _pixels_img(obj, 112) if obj.pixels is not None else "not preprocessed"

    @admin.display(description="true digit", ordering="truth")
    def true_label(self, obj: Drawing):
        """The label training uses; the round's target beside it when a reviewer changed it."""
        if obj.reviewed_label is None:
            return obj.label
        return f"{obj.reviewed_label} (asked for {obj.label})"

    @admin.display(description="guess", ordering="predicted_digit")
    def guess(self, obj: Drawing):
        """The predicted digit, or "not a digit" when that was the model's answer."""
        if obj.not_digit:
            return "not a digit"
        return "–" if obj.predicted_digit is None else obj.predicted_digit

    @admin.display(description="confidence", ordering="confidence")
    def confidence_shown(self, obj: Drawing):
        return "–" if obj.confidence is None else f"{obj.confidence:.2f}"


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    """The audit trail: visible, never edited."""

    list_display = [
        "decided_at",
        "reviewer",
        "drawing",
        "old_status",
        "new_status",
        "old_label",
        "new_label",
    ]
    list_filter = ["new_status", "reviewer", "decided_at"]
    search_fields = ["reviewer__username"]
    list_select_related = ["reviewer", "drawing"]


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
        lifecycle.activate(version=version, by=request.user)
    except (lifecycle.SwitchRefused, PermissionDenied) as exc:
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
