"""Row locks that behave alike on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import models


def lock_row(model: type[models.Model], pk: int) -> models.Model:
    """The row, locked until the transaction ends (call inside ``transaction.atomic()``).

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite ignores FOR UPDATE: there
    every transaction begins IMMEDIATE (settings.DATABASES), holding the database's one
    write lock from its first statement, so no other writer comes between the read and
    the write, and two transactions that read before writing cannot deadlock.
    """
    return model.objects.select_for_update().get(pk=pk)
