"""Staff pages: the review queue, the dashboard and the model versions.

Thin function views: reads come from ``selectors``, changes go through ``services``.
Everything here is staff only; the JSON endpoints answer 4xx with a sentence on bad input.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from guessgame.errors import Refusal, answers_json
from guessgame.game.models import Drawing
from guessgame.inputs import BadInput, read_json_body, row_id
from guessgame.review import charts, selectors, services
from inference import lifecycle
from inference.models import ModelVersion

QUEUE_PAGE = 60
"""Drawings shown at once in the review grid."""

PIXELS_SCALE = 4
"""The 28x28 model input is served at 4x (112 px) so it can be seen."""

PLOT_NAME = re.compile(r"^[a-z0-9_]+\.png$")


DECISION_MAX_BYTES = 4 * 1024
"""A decision is about 50 bytes of JSON."""

DECISION_DEPTH = 2
"""A flat object; one level of room so a wrong shape gets its own message, not this one."""

DECISION_EXAMPLE = '{"drawing": 12, "action": "relabel", "label": 7}'


def _progress(progress: selectors.Progress) -> dict:
    return {"reviewed": progress.reviewed, "total": progress.total}


# --- review queue --------------------------------------------------------------------


@staff_member_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """One queue mode's drawings, claimed for this reviewer (nobody else gets them)."""
    mode = request.GET.get("mode") or selectors.QUEUE_MODE_KEYS[0]
    if mode not in selectors.QUEUE_MODE_KEYS:
        return HttpResponse(
            f"Unknown queue mode; choose one of {', '.join(selectors.QUEUE_MODE_KEYS)}.",
            status=400,
        )
    drawings = services.claim_for_review(reviewer=request.user, mode=mode, limit=QUEUE_PAGE)
    counts = selectors.mode_counts()
    return render(
        request,
        "review/queue.html",
        {
            "drawings": [(drawing, drawing.top_guesses()) for drawing in drawings],
            "mode": next(m for m in selectors.QUEUE_MODES if m.key == mode),
            "modes": [(m, counts[m.key]) for m in selectors.QUEUE_MODES],
            "progress": selectors.review_progress(),
            "reviewers": selectors.reviewer_counts(),
            "claim_minutes": services.CLAIM_MINUTES,
            "digits": range(10),
        },
    )


def _drawing_json(drawing: Drawing) -> dict:
    return {
        "id": drawing.pk,
        "review_status": drawing.review_status,
        "label": drawing.label,
        "effective_label": drawing.effective_label,
    }


DECISIONS = {
    "approve": services.review_approve,
    "reject": services.review_reject,
    "relabel": services.review_relabel,
}


def _decision(request: HttpRequest, *, example: str) -> tuple[dict, Drawing]:
    """A decision's JSON body and the drawing it names, or a refusal that shows ``example``."""
    try:
        body = read_json_body(request, max_bytes=DECISION_MAX_BYTES, max_depth=DECISION_DEPTH)
    except BadInput as exc:
        raise BadInput(f"{exc} Send a JSON object such as {example}.", status=exc.status) from exc
    if not isinstance(body, dict):
        raise BadInput(f"The request body must be a JSON object such as {example}.")
    drawing_id = body.get("drawing")
    if isinstance(drawing_id, bool) or not isinstance(drawing_id, int):
        raise BadInput("Say which drawing: a numeric 'drawing' id.")
    drawing_id = row_id(drawing_id)
    drawing = None if drawing_id is None else Drawing.objects.filter(pk=drawing_id).first()
    if drawing is None:
        raise BadInput("This drawing does not exist (any more).", status=404)
    return body, drawing


@answers_json
@staff_member_required
@require_POST
def review_decide(request: HttpRequest) -> JsonResponse:
    """One key press: ``{"drawing": id, "action": "approve"|"reject"|"relabel", "label": d}``."""
    body, drawing = _decision(request, example=DECISION_EXAMPLE)
    action = body.get("action")
    decide = DECISIONS.get(action) if isinstance(action, str) else None
    if decide is None:
        raise Refusal("The action must be 'approve', 'reject' or 'relabel'.")
    label = {"label": body.get("label")} if action == "relabel" else {}
    done = decide(
        drawings=[drawing], reviewer=request.user,
        # Changing a drawing another reviewer relabelled takes an explicit "overwrite_relabel".
        overwrite_relabels=body.get("overwrite_relabel") is True, **label,
    )  # fmt: skip
    drawing.refresh_from_db()
    if done.skipped_relabelled:
        raise Refusal(
            f"Drawing {drawing.pk} was relabelled to {drawing.reviewed_label} by another "
            'reviewer; send "overwrite_relabel": true to change it anyway.',
            status=409,
        )
    return JsonResponse(
        {"drawing": _drawing_json(drawing), "progress": _progress(selectors.review_progress())}
    )


@answers_json
@staff_member_required
@require_POST
def review_skip(request: HttpRequest) -> JsonResponse:
    """S ("unsure"): pass the drawing on to another reviewer; ``{"drawing": id}``."""
    _, drawing = _decision(request, example='{"drawing": 12}')
    services.review_skip(drawing=drawing.pk, reviewer=request.user)
    return JsonResponse({"skipped": drawing.pk})


@answers_json
@staff_member_required
@require_POST
def review_undo(request: HttpRequest) -> JsonResponse:
    """U: take back this reviewer's last decision."""
    reversals = services.review_undo(reviewer=request.user)
    drawings = Drawing.objects.filter(pk__in=[r.drawing_id for r in reversals]).order_by("pk")
    return JsonResponse(
        {
            "undone": [_drawing_json(d) for d in drawings],
            "progress": _progress(selectors.review_progress()),
        }
    )


# --- images --------------------------------------------------------------------------


def _png_response(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_member_required
@require_GET
def drawing_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The PNG the player's browser sent."""
    drawing = get_object_or_404(Drawing.objects.only("image_png"), pk=pk)
    if not drawing.image_png:
        raise Http404("This drawing has no image.")
    return _png_response(bytes(drawing.image_png))


@staff_member_required
@require_GET
def drawing_pixels(request: HttpRequest, pk: int) -> HttpResponse:
    """The 28x28 picture the model saw."""
    drawing = get_object_or_404(Drawing.objects.only("pixels"), pk=pk)
    png = drawing.pixels_png(scale=PIXELS_SCALE)
    if png is None:
        raise Http404("This drawing has not been preprocessed yet.")
    return _png_response(png)


# --- dashboard -----------------------------------------------------------------------


def _percent(row: dict) -> str:
    return f"{row['accuracy']:.0%} of {row['total']}"


@staff_member_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    version = None
    version_id = request.GET.get("version")
    if version_id:
        if not (version_id.isascii() and version_id.isdigit()):
            return HttpResponse("The version must be a numeric id.", status=400)
        pk = row_id(version_id)
        if pk is None:
            raise Http404("No such model version.")
        version = get_object_or_404(ModelVersion, pk=pk)
    by_version = selectors.accuracy_by_version()
    by_digit = selectors.accuracy_by_digit(version_id=version and version.pk)
    by_day = selectors.accuracy_by_day(version_id=version and version.pk)
    day_points = charts.line(
        [(row["day"].isoformat(), row["accuracy"], _percent(row)) for row in by_day]
    )
    return render(
        request,
        "review/dashboard.html",
        {
            "version": version,
            "versions": ModelVersion.objects.all(),
            "by_version": by_version,
            "version_bars": charts.bars(
                [
                    (row["version"] or "unknown", row["accuracy"], _percent(row))
                    for row in by_version
                ]
            ),
            "digit_bars": charts.bars(
                [(str(row["digit"]), row["accuracy"], _percent(row)) for row in by_digit]
            ),
            "day_points": day_points,
            "day_polyline": charts.polyline(day_points),
            "confusion": charts.heat_levels(
                selectors.player_confusion_matrix(version_id=version and version.pk)
            ),
            "chart": {
                "width": charts.WIDTH,
                "height": charts.HEIGHT,
                "right": charts.WIDTH - charts.MARGIN,
                "grid": charts.gridlines(),
            },
            "digits": range(10),
        },
    )


# --- model versions ------------------------------------------------------------------


def _plots(version: ModelVersion) -> list[str]:
    directory = version.directory
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.glob("*.png") if PLOT_NAME.match(p.name))


def _model_card(version: ModelVersion) -> str:
    """The version's MODEL_CARD.md (written by training), or "" when it has none."""
    from training.model_card import CARD_NAME

    path = version.directory / CARD_NAME
    return path.read_text() if path.is_file() else ""


def _sizes(version: ModelVersion) -> dict:
    """How many drawings each headline figure was measured on: a 300-digit smoke run's
    accuracy is not a 10,000-digit one's."""
    metrics = version.metrics or {}
    return {
        "mnist_test": (metrics.get("dataset_sizes") or {}).get("test"),
        "canvas": metrics.get("canvas_size"),
    }


@staff_member_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    versions = [
        {
            "version": version,
            "plots": _plots(version),
            "metrics": version.metrics or {},
            "sizes": _sizes(version),
            "card": _model_card(version),
        }
        for version in ModelVersion.objects.all()
    ]
    return render(
        request,
        "review/models.html",
        {
            "versions": versions,
            "active": ModelVersion.active(),
            "rollback_to": lifecycle.rollback_target(),
            "reason_min_chars": lifecycle.OVERRIDE_REASON_MIN_CHARS,
        },
    )


@staff_member_required
@require_GET
def model_plot(request: HttpRequest, pk: int, name: str) -> FileResponse:
    """A plot from the version's folder; only plain ``*.png`` names, never a path."""
    version = get_object_or_404(ModelVersion, pk=pk)
    if not PLOT_NAME.match(name) or name not in _plots(version):
        raise Http404("No such plot.")
    return FileResponse(open(version.directory / name, "rb"), content_type="image/png")


@staff_member_required
@require_POST
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Activate a version; one the gate did not accept needs the typed ``reason``."""
    version = get_object_or_404(ModelVersion, pk=pk)
    try:
        lifecycle.activate(version=version, by=request.user, reason=request.POST.get("reason", ""))
    except lifecycle.SwitchRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.name} is now the active model.")
    return redirect("review:models")


@staff_member_required
@require_POST
def model_rollback(request: HttpRequest) -> HttpResponse:
    """Roll back to the version named on the button (``expected``), if it still is the one."""
    expected = None
    expected_id = row_id(request.POST.get("version", ""))
    if expected_id is not None:
        expected = ModelVersion.objects.filter(pk=expected_id).first()
    try:
        version = lifecycle.rollback(by=request.user, expected=expected)
    except (lifecycle.SwitchRefused, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rolled back: {version.name} is the active model again.")
    return redirect("review:models")
