"""Migration inference.0002 / review.0007: ModelActivation moves beside ModelVersion, its
rows stay (the table is still review_modelactivation)."""

from __future__ import annotations

import pytest

from tests.migrate import latest, migrate

BEFORE = [("inference", "0001_initial"), ("review", "0006_reviewdecision_moved_from_game")]


@pytest.mark.django_db(transaction=True)
def test_activations_recorded_before_the_move_are_read_after_it_and_roll_back_uses_them(
    tmp_path,
):
    apps = migrate(BEFORE)
    try:
        User = apps.get_model("auth", "User")
        Version = apps.get_model("inference", "ModelVersion")
        Activation = apps.get_model("review", "ModelActivation")
        staff = User.objects.create(username="staff-before-the-move", is_staff=True)
        made = []
        for name in ("v1", "v2"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "model.tflite").write_bytes(b"not really a model")
            made.append(
                Version.objects.create(
                    name=name,
                    path=str(tmp_path / name),
                    metrics={"gate": {"verdict": "accept"}},
                )  # fmt: skip
            )
        Version.objects.update(is_active=False)
        Version.objects.filter(pk=made[1].pk).update(is_active=True)
        first = Activation.objects.create(kind="activate", to_version=made[0], changed_by=staff)
        second = Activation.objects.create(
            kind="activate", from_version=made[0], to_version=made[1], changed_by=staff
        )
    finally:
        migrate(latest())

    from inference import lifecycle
    from inference.models import ModelActivation, ModelVersion

    assert list(ModelActivation.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")) == [
        ModelActivation.objects.get(pk=first.pk),
        ModelActivation.objects.get(pk=second.pk),
    ]
    moved = ModelActivation.objects.get(pk=second.pk)
    assert (moved.from_version.name, moved.to_version.name, moved.changed_by_id) == (
        "v1", "v2", staff.pk,
    )  # fmt: skip
    assert lifecycle.rollback_target() == ModelVersion.objects.get(name="v1")
