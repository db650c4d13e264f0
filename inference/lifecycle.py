"""The model lifecycle: which version answers, and every change of it on the record.

Staff activate a version (over the gate only with a typed reason), roll back, a retrain
activates what the gate accepted, and migrate activates the model the repository ships.
Each change is one :class:`~inference.models.ModelActivation` row: from which version,
to which, who, when, why. Workers pick the active version up at their next prediction.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction

from guessgame.errors import Refusal
from inference.models import ModelActivation, ModelVersion

log = logging.getLogger(__name__)

OVERRIDE_REASON_MIN_CHARS = 10
"""An override's reason must say something ("ok" is not a reason)."""


class SwitchRefused(Refusal):
    """A switch that cannot be made; ``str(error)`` is a sentence for the staff member."""


def _check_staff(user) -> None:
    if user is None or not user.is_authenticated or not user.is_staff:
        raise PermissionDenied("Only staff can change the active model.")


def switch_model(
    *, version: ModelVersion, by, kind: ModelActivation.Kind, note: str = ""
) -> ModelActivation:
    """Activate ``version`` and record the change (from which version, who, when, why)."""
    with transaction.atomic():
        # Lock the active row: the "from" we record is the version this switch replaced.
        previous = ModelVersion.objects.select_for_update().filter(is_active=True).first()
        version.activate()
        change = ModelActivation.objects.create(
            kind=kind,
            from_version=previous,
            to_version=version,
            changed_by=by,
            changed_at=version.activated_at,
            note=note,
        )
    log.info(
        "event=model_activated kind=%s from=%s version=%s by=%s",
        kind,
        previous.name if previous else None,
        version.name,
        by.pk if by else None,
    )
    return change


def activate(
    *,
    version: ModelVersion,
    by,
    reason: str = "",
    kind: ModelActivation.Kind = ModelActivation.Kind.ACTIVATE,
) -> ModelVersion:
    """Staff make ``version`` the active model.

    A version the gate did not accept (refused, not enough evidence, or never judged)
    goes live only with a typed ``reason``, recorded as an override.
    """
    _check_staff(by)
    if not version.tflite_path.exists():
        raise SwitchRefused(f"{version.name} has no model file at {version.tflite_path}.")
    reason = (reason or "").strip()
    note = ""
    if not version.passed_gate:
        if len(reason) < OVERRIDE_REASON_MIN_CHARS:
            gate = version.gate.get("reason") or version.gate_verdict
            raise SwitchRefused(
                f"The gate did not accept {version.name} ({gate}). To put it live anyway, "
                f"type why (at least {OVERRIDE_REASON_MIN_CHARS} characters); it is recorded."
            )
        kind = ModelActivation.Kind.OVERRIDE
        note = f"Override of the gate ({version.gate_verdict}): {reason}"
    switch_model(version=version, by=by, kind=kind, note=note)
    return version


def rollback_target() -> ModelVersion | None:
    """Where "Roll back" goes: the latest version active before the current one that
    passed the gate (and whose file is still there).

    The audit trail is replayed as a stack: an activation pushes its version, a rollback
    pops back down to its version. Pressing "Roll back" twice therefore goes back two
    steps, never back and forth between two versions.
    """
    stack: list[int] = []
    changes = ModelActivation.objects.order_by("changed_at", "pk").only(
        "kind", "from_version_id", "to_version_id"
    )
    for change in changes:
        if change.kind == ModelActivation.Kind.ROLLBACK:
            while stack and stack[-1] != change.to_version_id:
                stack.pop()
        elif change.from_version_id and (not stack or stack[-1] != change.from_version_id):
            stack.append(change.from_version_id)  # activated before the trail began
        if not stack or stack[-1] != change.to_version_id:
            stack.append(change.to_version_id)
    active = ModelVersion.active()
    earlier = [pk for pk in reversed(stack) if active is None or pk != active.pk]
    versions = ModelVersion.objects.in_bulk(set(earlier))
    for pk in earlier:
        version = versions.get(pk)
        if version is not None and version.passed_gate and version.tflite_path.exists():
            return version
    return None


def rollback(*, by, expected: ModelVersion | None = None) -> ModelVersion:
    """Staff go back to the previous version that passed the gate (:func:`rollback_target`).

    ``expected`` is the version the staff member saw on the button: when the target has
    changed since (another switch), nothing happens and they are told.
    """
    _check_staff(by)
    with transaction.atomic():
        # Serialise rollbacks: two quick presses go back two steps, never one twice.
        list(ModelVersion.objects.select_for_update().filter(is_active=True))
        target = rollback_target()
        if target is None:
            raise SwitchRefused("No earlier version that passed the gate to roll back to.")
        if expected is not None and expected.pk != target.pk:
            raise SwitchRefused(
                f"Roll back now goes to {target.name}, not {expected.name} (the active model "
                "changed since the page was loaded); reload and try again."
            )
        if not target.tflite_path.exists():
            raise SwitchRefused(f"{target.name} has no model file at {target.tflite_path}.")
        switch_model(version=target, by=by, kind=ModelActivation.Kind.ROLLBACK)
    return target


def activate_by_retrain(
    *, version: ModelVersion, decision: str, override: bool = False
) -> ModelVersion:
    """A retrain activates its new version: the gate accepted it, or ``override``
    (``--activate always`` with a reason, in ``decision``). No staff account: the
    command runs on the server."""
    kind = ModelActivation.Kind.OVERRIDE if override else ModelActivation.Kind.RETRAIN
    switch_model(version=version, by=None, kind=kind, note=decision)
    return version


def record_shipped_activation(
    *, version: ModelVersion, replaced: ModelVersion | None, reason: str
) -> ModelActivation:
    """Migrate switched to the repository's model (``registry.ensure_shipped_model``):
    ``reason`` is "none" (nothing was active), "gone" (the active version's file was
    missing) or "superseded" (it was an earlier shipped model). Recorded like any switch."""
    if replaced is None:
        note = "None was active."
    elif reason == "superseded":
        note = f"{replaced.name} was an earlier shipped model; now {version.name} ships."
    else:
        note = f"{replaced.name}'s model file was gone."
    return ModelActivation.objects.create(
        kind=ModelActivation.Kind.SHIPPED,
        from_version=replaced,
        to_version=version,
        changed_by=None,
        changed_at=version.activated_at,
        note=note,
    )
