"""Signals other apps listen to, so inference need not know who records what."""

from django.dispatch import Signal

shipped_model_activated = Signal()
"""Sent after migrate activated the model shipped in the repository. Arguments:
``version`` (the ModelVersion now active) and ``replaced`` (the one before, or None)."""
