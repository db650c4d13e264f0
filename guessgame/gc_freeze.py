"""Keep Python's full garbage collections short in the long-running processes.

A web or worker process holds ~100,000 objects from its start (Django, the URL
resolvers, the templates, Celery, NumPy...) that live as long as it does. Each full
(generation 2) collection walks them all with the GIL held, so every thread of the
process stalls: 70-134 ms each, a few times a minute per web process under load
(README, "Players at once"). ``gc.freeze()`` once the process has started moves them out
of the collector's sight; objects made later are collected as before.
"""

from __future__ import annotations

import gc


def load_every_view() -> None:
    """Import what a web process's first requests would (every view, through the URL
    resolver, and reverse()'s tables), so those objects are frozen too."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018
    resolver.reverse_dict  # noqa: B018


def freeze_startup_objects() -> int:
    """Collect once, then exempt everything alive now from later collections; returns
    how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
