"""Monitor.badge_key: each existing monitor gets a key of its own. Adding the column with
its default would give every row the one value the default returned once, so the column
is added empty, filled row by row, and only then made unique and required."""

from django.db import migrations, models

from monitors.models import new_badge_key


def give_each_monitor_a_key(apps, schema_editor):
    Monitor = apps.get_model("monitors", "Monitor")
    keyless = list(Monitor.objects.filter(badge_key__isnull=True).only("pk"))
    for monitor in keyless:
        monitor.badge_key = new_badge_key()
    Monitor.objects.bulk_update(keyless, ["badge_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("monitors", "0008_monitor_paused_with_owner"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitor",
            name="badge_key",
            field=models.CharField(max_length=32, null=True, editable=False),
        ),
        migrations.RunPython(give_each_monitor_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="monitor",
            name="badge_key",
            field=models.CharField(default=new_badge_key, editable=False, max_length=32, unique=True),
        ),
    ]
