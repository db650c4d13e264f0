"""Export players' drawings for training and for the tools people use with Quick, Draw!.

Writes into one folder, ordered by drawing id (deterministic: the same rows give the
same bytes), each file to a temporary name first and renamed when complete, so a run
that dies leaves no half-written file and a second run simply starts again:

* ``drawings.npz``, always: ``images`` (N, 28, 28) uint8 (the preprocessed picture the
  model reads, ink = 255), ``labels`` (N,) int64 (the reviewed label when relabelled),
  ``ids`` (N,) int64, and metadata arrays of the same length (see ``METADATA``);
* optionally ``png/<label>/<id>.png`` + ``manifest.csv``: the 28x28 images. A restarted
  run skips the PNGs already written and deletes the ones no longer exported as they
  are (a drawing relabelled, rejected or left out since), so ``png/`` always matches
  the manifest;
* optionally ``drawings.ndjson``: the strokes in the Quick, Draw! *raw* format, one
  drawing a line, with one field of ours, ``not_digit``; beside it
  ``drawings_simplified.ndjson``, Quick, Draw!'s *simplified* format (aligned to the
  top-left, scaled to 0-255, Ramer-Douglas-Peucker at epsilon 2.0, integer points, no
  times), so tools written for that dataset read ours.

Every format says whether the model's answer was "not a digit": ``not_digits`` in the
NPZ, a ``not_digit`` column in the manifest, a ``not_digit`` field in the ndjson.

Rejected and blank drawings are never exported.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path

import numpy as np
from django.db.models import QuerySet
from PIL import Image

from guessgame.game.models import Drawing
from guessgame.game.quickdraw import quickdraw_record, quickdraw_simplified_record
from inference.contract import FIELD_PX, is_pixel_bytes, levels_from_bytes, to_uint8

Review = Drawing.Review

EXPORTABLE_STATUSES = (Review.APPROVED, Review.RELABELLED, Review.UNREVIEWED)
DEFAULT_STATUSES = EXPORTABLE_STATUSES
FORMATS = ("npz", "png", "ndjson")
"""npz is always written; png and ndjson are added on request."""
NPZ_NAME = "drawings.npz"
NDJSON_NAME = "drawings.ndjson"
SIMPLIFIED_NDJSON_NAME = "drawings_simplified.ndjson"
MANIFEST_NAME = "manifest.csv"
PNG_DIR = "png"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""Fixed timestamp for the NPZ's zip entries, so equal data gives equal bytes."""

METADATA = (
    "original_labels",  # int64: the round's target, before any relabelling
    "predicted_digits",  # int64: the model's guess, -1 when none
    "not_digits",  # bool: the model's answer was "not a digit" (predicted_digits is -1)
    "confidences",  # float32: p(the guessed digit) or p(not a digit), NaN when none
    "review_statuses",  # str: unreviewed / approved / relabelled
    "flags",  # str: the player's flag, "" when none
    "timestamps_ms",  # int64: when the drawing was made, ms since the Unix epoch (UTC)
    "player_ids",  # int64: -1 when the player account is gone
    "model_versions",  # str: the model that guessed, "" when none
)

Progress = Callable[[Iterable, int], Iterable]


class ExportError(ValueError):
    """Options that cannot be exported; ``str(error)`` says why in a sentence."""


@dataclass
class ExportResult:
    out_dir: Path
    count: int = 0
    per_label: Counter = field(default_factory=Counter)
    skipped_unreadable: int = 0
    pngs_written: int = 0
    pngs_skipped: int = 0
    pngs_removed: int = 0
    files: list[Path] = field(default_factory=list)


def check_statuses(statuses: Sequence[str]) -> tuple[str, ...]:
    """The review statuses to export, validated (rejected is never allowed)."""
    chosen = []
    for status in statuses:
        if status == Review.REJECTED:
            raise ExportError("Rejected drawings are never exported.")
        if status not in EXPORTABLE_STATUSES:
            raise ExportError(
                f"Unknown review status {status!r}: choose from {', '.join(EXPORTABLE_STATUSES)}."
            )
        if status not in chosen:
            chosen.append(status)
    if not chosen:
        raise ExportError("Choose at least one review status to export.")
    return tuple(chosen)


def exportable_drawings(
    *, statuses: Sequence[str] = DEFAULT_STATUSES, since: date | None = None, until=None
) -> QuerySet[Drawing]:
    """The drawings an export takes, by id; ``since`` and ``until`` are inclusive UTC days."""
    statuses = check_statuses(statuses)
    if since and until and since > until:
        raise ExportError(f"--since {since} is after --until {until}.")
    drawings = Drawing.objects.exportable().with_truth().filter(review_status__in=statuses)
    if since:
        drawings = drawings.filter(created_at__date__gte=since)
    if until:
        drawings = drawings.filter(created_at__date__lte=until)
    return drawings.select_related("model_version").order_by("pk")


def drawing_pixels(drawing: Drawing) -> np.ndarray | None:
    """The (28, 28) uint8 picture the model reads; preprocessed now when it was not yet.

    None for a drawing that turns out blank or unreadable.
    """
    if is_pixel_bytes(drawing.pixels):
        return levels_from_bytes(drawing.pixels)
    from inference.preprocess import DrawingError, preprocess_png

    try:
        result = preprocess_png(bytes(drawing.image_png or b""))
    except DrawingError:
        return None
    if result.blank:
        return None
    return to_uint8(result.pixels)


def _replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``np.load``-able NPZ with fixed zip timestamps (``np.savez`` stamps the clock)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.asanyarray(array), allow_pickle=False)
            archive.writestr(info, payload.getvalue())
    return buffer.getvalue()


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG")
    return buffer.getvalue()


def check_out_dir(out_dir: Path) -> Path:
    """The folder to write into, checked before anything is written: only its last
    part is created (a mistyped ``/nonexistent/...`` must not become a directory tree)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"Cannot export to {out_dir}: it is a file, not a folder.")
    if not out_dir.exists() and not out_dir.parent.is_dir():
        raise ExportError(
            f"Cannot export to {out_dir}: the folder {out_dir.parent} does not exist "
            "(only the last folder is created); create it first."
        )
    writable = out_dir if out_dir.exists() else out_dir.parent
    if not os.access(writable, os.W_OK | os.X_OK):
        raise ExportError(f"Cannot export to {out_dir}: {writable} is not writable.")
    return out_dir


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """The formats to write, validated, in ``FORMATS`` order; npz is always among them."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ExportError(f"Formats must be among {', '.join(FORMATS)}, not {unknown}.")
    return tuple(name for name in FORMATS if name == "npz" or name in formats)


def _remove_stale_pngs(out_dir: Path, keep: set[Path]) -> int:
    """Delete PNGs under ``png/`` that this export did not list (e.g. under a drawing's
    old label folder after a relabel) and empty label folders; return how many."""
    removed = 0
    png_root = out_dir / PNG_DIR
    if not png_root.is_dir():
        return 0
    for path in sorted(png_root.glob("*/*.png*")):
        if path.relative_to(out_dir) not in keep:
            path.unlink()
            removed += not path.name.endswith(".tmp")
    for folder in png_root.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def export_drawings(
    *,
    out_dir: Path,
    statuses: Sequence[str] = DEFAULT_STATUSES,
    since: date | None = None,
    until: date | None = None,
    formats: Sequence[str] = ("npz",),
    dry_run: bool = False,
    progress: Progress | None = None,
    drawings: QuerySet[Drawing] | None = None,
) -> ExportResult:
    """Export the chosen drawings into ``out_dir``; nothing is written with ``dry_run``.

    ``formats`` adds "png" and/or "ndjson" to the NPZ, which is always written.
    ``drawings`` narrows the export to a query (retrain's training and hold-out sets);
    rejected and blank drawings stay out whatever it holds.
    """
    formats = check_formats(formats)
    chosen = exportable_drawings(statuses=statuses, since=since, until=until)
    if drawings is not None:
        chosen = chosen.filter(pk__in=drawings.values("pk"))
    drawings = chosen
    out_dir = Path(out_dir) if dry_run else check_out_dir(out_dir)
    result = ExportResult(out_dir=out_dir)
    total = drawings.count()
    if total == 0:
        raise ExportError(
            "Nothing to export: no drawing matches (rejected and blank ones never do); "
            "no file was written."
        )
    rows = drawings.defer("probabilities").iterator(chunk_size=500)
    if progress is not None:
        rows = progress(rows, total)

    images, columns = [], {name: [] for name in ("labels", "ids", *METADATA)}
    manifest, ndjson_lines, simplified_lines = [], [], []
    if not dry_run:
        out_dir.mkdir(exist_ok=True)
    for drawing in rows:
        pixels = drawing_pixels(drawing)
        if pixels is None:
            result.skipped_unreadable += 1
            continue
        label = drawing.truth
        result.count += 1
        result.per_label[label] += 1
        images.append(pixels)
        columns["labels"].append(label)
        columns["ids"].append(drawing.pk)
        columns["original_labels"].append(drawing.label)
        columns["predicted_digits"].append(
            -1 if drawing.predicted_digit is None else drawing.predicted_digit
        )
        columns["not_digits"].append(drawing.not_digit)
        columns["confidences"].append(
            math.nan if drawing.confidence is None else drawing.confidence
        )
        columns["review_statuses"].append(drawing.review_status)
        columns["flags"].append(drawing.flag or "")
        columns["timestamps_ms"].append(int(drawing.created_at.timestamp() * 1000))
        columns["player_ids"].append(-1 if drawing.player_id is None else drawing.player_id)
        columns["model_versions"].append(
            drawing.model_version.name if drawing.model_version else ""
        )
        if dry_run:
            continue
        if "png" in formats:
            relative = Path(PNG_DIR) / str(label) / f"{drawing.pk}.png"
            target = out_dir / relative
            if target.exists():
                result.pngs_skipped += 1
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                _replace_atomically(target, png_bytes(pixels))
                result.pngs_written += 1
            manifest.append(
                [
                    drawing.pk,
                    label,
                    drawing.label,
                    drawing.review_status,
                    relative.as_posix(),
                    columns["predicted_digits"][-1],
                    int(drawing.not_digit),
                    "" if drawing.confidence is None else f"{drawing.confidence:.6f}",
                    drawing.created_at.astimezone(UTC).isoformat(),
                ]
            )
        if "ndjson" in formats:
            ndjson_lines.append(json.dumps(quickdraw_record(drawing), separators=(",", ":")))
            simplified_lines.append(
                json.dumps(quickdraw_simplified_record(drawing), separators=(",", ":"))
            )

    if dry_run:
        return result
    arrays = {
        "images": np.asarray(images, dtype=np.uint8).reshape(-1, FIELD_PX, FIELD_PX),
        "labels": np.asarray(columns["labels"], dtype=np.int64),
        "ids": np.asarray(columns["ids"], dtype=np.int64),
        "original_labels": np.asarray(columns["original_labels"], dtype=np.int64),
        "predicted_digits": np.asarray(columns["predicted_digits"], dtype=np.int64),
        "not_digits": np.asarray(columns["not_digits"], dtype=bool),
        "confidences": np.asarray(columns["confidences"], dtype=np.float32),
        "review_statuses": np.asarray(columns["review_statuses"], dtype="<U12"),
        "flags": np.asarray(columns["flags"], dtype="<U30"),
        "timestamps_ms": np.asarray(columns["timestamps_ms"], dtype=np.int64),
        "player_ids": np.asarray(columns["player_ids"], dtype=np.int64),
        "model_versions": np.asarray(columns["model_versions"], dtype="<U100"),
    }
    _replace_atomically(out_dir / NPZ_NAME, npz_bytes(arrays))
    result.files.append(out_dir / NPZ_NAME)
    if "png" in formats:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(
            [
                "id",
                "label",
                "original_label",
                "review_status",
                "path",
                "predicted_digit",
                "not_digit",
                "confidence",
                "created_at",
            ]
        )
        writer.writerows(manifest)
        _replace_atomically(out_dir / MANIFEST_NAME, text.getvalue().encode())
        result.files.append(out_dir / MANIFEST_NAME)
        result.pngs_removed = _remove_stale_pngs(out_dir, {Path(row[4]) for row in manifest})
    if "ndjson" in formats:
        data = "".join(line + "\n" for line in ndjson_lines).encode()
        _replace_atomically(out_dir / NDJSON_NAME, data)
        result.files.append(out_dir / NDJSON_NAME)
        data = "".join(line + "\n" for line in simplified_lines).encode()
        _replace_atomically(out_dir / SIMPLIFIED_NDJSON_NAME, data)
        result.files.append(out_dir / SIMPLIFIED_NDJSON_NAME)
    return result
