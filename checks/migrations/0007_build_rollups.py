"""Count the ticks already stored into rollups, so figures are right from the upgrade on.

Tick writes wait while it runs (see rollups.rebuild): on a large table, stop the workers
for the upgrade or expect checks to queue meanwhile.
"""

from django.db import migrations


def build_rollups(apps, schema_editor):
    from checks.figures import rollups

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(scheduled_at) FROM checks_tick")
        (earliest,) = cursor.fetchone()
    if earliest is not None:
        rollups.rebuild(earliest, using=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("checks", "0006_rollups")]

    operations = [migrations.RunPython(build_rollups, migrations.RunPython.noop)]
