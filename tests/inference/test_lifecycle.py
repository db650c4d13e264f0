"""The model lifecycle: staff activate (over the gate only with a reason) and roll back,
a retrain activates what the gate accepted; every switch is on the record."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from inference import lifecycle
from inference.models import ModelActivation, ModelVersion
from tests.factories import UserFactory, make_version, switch_to

pytestmark = pytest.mark.django_db


def test_activating_and_rolling_back_switch_the_active_version(tmp_path, staff):
    first = make_version(tmp_path, "v1", active=True)
    second = make_version(tmp_path, "v2")

    lifecycle.activate(version=second, by=staff)
    assert ModelVersion.active() == second

    assert lifecycle.rollback(by=staff) == first
    assert ModelVersion.active() == first


def test_activating_and_rolling_back_are_recorded_with_who_when_and_which_versions(tmp_path, staff):
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    first = make_version(tmp_path, "v1")
    second = make_version(tmp_path, "v2")

    lifecycle.activate(version=first, by=staff)
    lifecycle.activate(version=second, by=staff)
    lifecycle.rollback(by=staff)

    changes = list(ModelActivation.objects.exclude(kind="shipped").order_by("pk"))  # migrate's
    assert [(c.kind, c.from_version, c.to_version, c.changed_by) for c in changes] == [
        (ModelActivation.Kind.ACTIVATE, None, first, staff),
        (ModelActivation.Kind.ACTIVATE, first, second, staff),
        (ModelActivation.Kind.ROLLBACK, second, first, staff),
    ]
    first.refresh_from_db()
    assert changes[-1].changed_at == first.activated_at


def test_a_version_the_gate_did_not_accept_goes_live_only_with_a_typed_reason(tmp_path, staff):
    first = make_version(tmp_path, "v1", active=True)
    refused = make_version(tmp_path, "v2", verdict="refuse")
    unjudged = make_version(tmp_path, "v3", verdict=None)

    for version in (refused, unjudged):
        for reason in ("", "   ", "ok"):
            with pytest.raises(lifecycle.SwitchRefused, match="type why"):
                lifecycle.activate(version=version, by=staff, reason=reason)
    assert ModelVersion.active() == first
    assert not ModelActivation.objects.filter(to_version__in=[refused, unjudged]).exists()

    lifecycle.activate(version=refused, by=staff, reason="hotfix for the 7s, see #42")

    assert ModelVersion.active() == refused
    assert switch_to(refused) == (
        ModelActivation.Kind.OVERRIDE, first, staff,
        "Override of the gate (refuse): hotfix for the 7s, see #42",
    )  # fmt: skip


def test_roll_back_goes_to_the_previous_accepted_version_and_never_toggles(tmp_path, staff):
    ModelActivation.objects.all().delete()  # migrate's switch to the shipped model
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    first = make_version(tmp_path, "v1")
    second = make_version(tmp_path, "v2")
    bad = make_version(tmp_path, "v3-refused", verdict="refuse")
    lifecycle.activate(version=first, by=staff)
    lifecycle.activate(version=second, by=staff)
    lifecycle.activate(version=bad, by=staff, reason="trying it on the live traffic")

    assert lifecycle.rollback_target() == second
    assert lifecycle.rollback(by=staff) == second
    assert lifecycle.rollback_target() == first, "the second press goes further back, not to v3"
    assert lifecycle.rollback(by=staff) == first
    assert lifecycle.rollback_target() is None
    with pytest.raises(lifecycle.SwitchRefused, match="No earlier version"):
        lifecycle.rollback(by=staff)
    assert ModelVersion.active() == first


def test_roll_back_skips_versions_the_gate_did_not_accept(tmp_path, staff):
    ModelActivation.objects.all().delete()  # migrate's switch to the shipped model
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    good = make_version(tmp_path, "good")
    unsure = make_version(tmp_path, "unsure", verdict="not enough evidence yet")
    latest = make_version(tmp_path, "latest")
    lifecycle.activate(version=good, by=staff)
    lifecycle.activate(version=unsure, by=staff, reason="more data soon, try it")
    lifecycle.activate(version=latest, by=staff)

    assert lifecycle.rollback(by=staff) == good


def test_roll_back_refuses_when_the_page_showed_another_target(tmp_path, staff):
    ModelActivation.objects.all().delete()  # migrate's switch to the shipped model
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    first, second, third = (make_version(tmp_path, name) for name in ("v1", "v2", "v3"))
    for version in (first, second, third):
        lifecycle.activate(version=version, by=staff)

    with pytest.raises(lifecycle.SwitchRefused, match="now goes to v2, not v1"):
        lifecycle.rollback(by=staff, expected=first)
    assert ModelVersion.active() == third


def test_a_retrain_activation_is_recorded_with_the_rules_decision(tmp_path):
    before = make_version(tmp_path, "v1", active=True)
    retrained = make_version(tmp_path, "retrain-x")

    lifecycle.activate_by_retrain(version=retrained, decision="activated: not worse")

    assert ModelVersion.active() == retrained
    assert switch_to(retrained) == (
        ModelActivation.Kind.RETRAIN,
        before,
        None,
        "activated: not worse",
    )


def test_a_version_without_its_model_file_cannot_be_activated(tmp_path, staff):
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    version = ModelVersion.objects.create(name="ghost", path=str(tmp_path / "missing"))

    with pytest.raises(lifecycle.SwitchRefused, match="no model file"):
        lifecycle.activate(version=version, by=staff)
    assert ModelVersion.active() is None


def test_players_cannot_switch_models(tmp_path):
    version = make_version(tmp_path, "v1")

    with pytest.raises(PermissionDenied):
        lifecycle.activate(version=version, by=UserFactory())
