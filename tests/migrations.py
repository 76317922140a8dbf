"""Moving the test database through its migrations, for the tests of a data migration."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets=None):
    """Migrate to `targets` (default: the latest migrations; `(app, None)` unapplies all of an app's);
    returns the historical models of the state reached."""
    executor = MigrationExecutor(connection)
    return executor.migrate(targets or executor.loader.graph.leaf_nodes()).apps
