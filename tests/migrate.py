"""Migrating the test database back and forth, for the tests of a data-keeping migration."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to ``targets`` ([(app, migration), ...]); the apps as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    """Every app's latest migration: migrate here when the test is done."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()
