import django.db.models.deletion
from django.db import migrations, models


def failed_to_dead(apps, schema_editor):
    # "failed" meant exactly this: every attempt made, none arrived (services._finish_attempt).
    apps.get_model("notifications", "Delivery").objects.filter(status="failed").update(status="dead")


def dead_to_failed(apps, schema_editor):
    apps.get_model("notifications", "Delivery").objects.filter(status="dead").update(status="failed")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_channel_audience"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="apprise_url",
            field=models.CharField(blank=True, max_length=2000, verbose_name="Apprise URL"),
        ),
        migrations.AddField(
            model_name="delivery",
            name="replay_of",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="replay",
                to="notifications.delivery",
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="replayed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="channel",
            name="kind",
            field=models.CharField(
                choices=[("webhook", "Webhook"), ("email", "Email"), ("slack", "Slack"), ("apprise", "Apprise")],
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="status",
            field=models.CharField(
                choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("dead", "Dead")],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunPython(failed_to_dead, dead_to_failed, elidable=True),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("replayed_at__isnull", True), ("status", "dead")),
                fields=["channel", "-finished_at"],
                name="delivery_dead_letter",
            ),
        ),
    ]
