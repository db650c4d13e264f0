"""Signals other apps listen to, so inference need not know who records what."""

from django.dispatch import Signal

shipped_model_activated = Signal()
"""Sent after migrate activated the model shipped in the repository. Arguments:
``version`` (the ModelVersion now active), ``replaced`` (the one before, or None) and
``reason``: "none" (nothing was active), "gone" (its file was missing) or "superseded"
(it was an earlier shipped model)."""
