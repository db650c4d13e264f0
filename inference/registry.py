"""Registering model versions found on disk."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def register_model_dir(directory: Path, *, name: str | None = None):
    """Record a trained model folder as a ModelVersion (inactive), reading its metrics."""
    from inference.models import ModelVersion

    directory = Path(directory).resolve()
    metrics_file = directory / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    try:
        stored_path = str(directory.relative_to(settings.BASE_DIR))
    except ValueError:
        stored_path = str(directory)
    version, _ = ModelVersion.objects.get_or_create(
        name=name or metrics.get("version") or directory.name,
        defaults={
            "path": stored_path,
            "architecture": metrics.get("model", ""),
            "metrics": metrics,
        },
    )
    return version


def table_exists(model) -> bool:
    """Whether ``model``'s table is there yet: post_migrate also follows partial migrates."""
    from django.db import connection

    return model._meta.db_table in connection.introspection.table_names()


def is_shipped(version) -> bool:
    """Whether ``version`` is a model the repository ships (not one staff trained)."""
    shipped_root = Path(settings.SHIPPED_MODEL_DIR).resolve().parent
    return version.directory.resolve().parent == shipped_root


def ensure_shipped_model(**kwargs) -> None:
    """post_migrate hook: activate the model shipped in the repo when the active version
    should give way to it: none is active, the active one's file is gone, or the active
    one is an earlier model the repository shipped (an update brought a better default).
    A version that staff trained and activated is kept."""
    from inference.lifecycle import record_shipped_activation
    from inference.models import ModelActivation, ModelVersion

    if not table_exists(ModelVersion):  # a partial migrate (`migrate contenttypes`)
        return
    shipped = Path(settings.SHIPPED_MODEL_DIR)
    active = ModelVersion.active()
    if active is not None and active.tflite_path.exists():
        if active.name == shipped.name or not is_shipped(active):
            return
        reason = "superseded"
    else:
        reason = "gone" if active is not None else "none"
    if not (shipped / "model.tflite").exists():
        log.warning("event=no_shipped_model path=%s", shipped)
        return
    version = register_model_dir(shipped, name=shipped.name)
    with transaction.atomic():
        version.activate()
        if table_exists(ModelActivation):  # not in a partial migrate that stopped early
            record_shipped_activation(version=version, replaced=active, reason=reason)
    replaced = f" replaced={active.name} reason={reason}" if active is not None else ""
    log.info("event=activated_shipped_model version=%s%s", version.name, replaced)
