"""Registering model versions found on disk."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings

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


def ensure_shipped_model(**kwargs) -> None:
    """post_migrate hook: activate the model shipped in the repo when no active version
    can serve: none is active, or the active one's file is gone (an earlier shipped model
    that an update of the repo replaced)."""
    from inference.models import ModelVersion
    from inference.signals import shipped_model_activated

    if not table_exists(ModelVersion):  # a partial migrate (`migrate contenttypes`)
        return
    active = ModelVersion.active()
    if active is not None and active.tflite_path.exists():
        return
    shipped = Path(settings.SHIPPED_MODEL_DIR)
    if not (shipped / "model.tflite").exists():
        log.warning("event=no_shipped_model path=%s", shipped)
        return
    version = register_model_dir(shipped, name=shipped.name)
    version.activate()
    shipped_model_activated.send(sender=ModelVersion, version=version, replaced=active)
    replaced = f" replaced={active.name}" if active is not None else ""
    log.info("event=activated_shipped_model version=%s%s", version.name, replaced)
