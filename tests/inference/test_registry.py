"""The shipped model becomes active by itself when nothing else can serve (post_migrate)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from inference.models import ModelVersion
from inference.registry import ensure_shipped_model, register_model_dir

pytestmark = pytest.mark.django_db

SHIPPED = Path(settings.SHIPPED_MODEL_DIR)


def test_with_no_active_version_the_shipped_model_is_activated():
    ModelVersion.objects.update(is_active=False)
    ensure_shipped_model()
    assert ModelVersion.active().name == SHIPPED.name


def test_an_active_version_that_can_serve_is_kept(tmp_path):
    copy = shutil.copytree(SHIPPED, tmp_path / "staff-v7")
    register_model_dir(copy, name="staff-v7").activate()
    ensure_shipped_model()
    assert ModelVersion.active().name == "staff-v7"


def test_an_active_version_whose_file_is_gone_gives_way_to_the_shipped_model(tmp_path):
    # e.g. an earlier shipped model that an update of the repository removed
    copy = shutil.copytree(SHIPPED, tmp_path / "default-v0")
    register_model_dir(copy, name="default-v0").activate()
    shutil.rmtree(copy)
    ensure_shipped_model()
    assert ModelVersion.active().name == SHIPPED.name


def test_an_earlier_shipped_model_gives_way_to_the_one_the_repository_ships_now(settings):
    from inference.models import ModelActivation

    earlier = SHIPPED.parent / "default-v2"
    assert earlier != SHIPPED and (earlier / "model.tflite").exists()
    old = register_model_dir(earlier, name="default-v2")
    old.activate()
    ensure_shipped_model()
    assert ModelVersion.active().name == SHIPPED.name
    change = ModelActivation.objects.latest("changed_at")
    assert change.from_version == old and "earlier shipped model" in change.note


def test_the_switch_to_the_shipped_model_is_recorded_in_the_activation_history(tmp_path):
    from inference.models import ModelActivation

    copy = shutil.copytree(SHIPPED, tmp_path / "default-v0")
    old = register_model_dir(copy, name="default-v0")
    old.activate()
    shutil.rmtree(copy)
    ensure_shipped_model()
    change = ModelActivation.objects.latest("changed_at")
    assert change.kind == ModelActivation.Kind.SHIPPED
    assert (change.from_version, change.to_version.name) == (old, SHIPPED.name)
    assert change.changed_by is None and "gone" in change.note


@pytest.mark.django_db(False)
def test_a_partial_migrate_of_a_fresh_database_succeeds(tmp_path):
    """post_migrate follows `migrate <app>` too, before the model tables exist."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "GUESSGAME_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # a fresh SQLite file
    for app in ("contenttypes", "inference"):
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", app, "--noinput"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
