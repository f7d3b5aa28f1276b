"""Channels belong to an organization, not a user."""

import django.db.models.deletion
from django.db import migrations, models

# Each row goes to its owner's personal organization (made in accounts 0003): the owner's
# first membership.
TO_ORGANIZATION = """
UPDATE {table} AS owned SET organization_id = (
    SELECT organization_id FROM accounts_membership
    WHERE user_id = owned.owner_id ORDER BY created_at, id LIMIT 1
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_apprise_dead_letter"),
        ("accounts", "0003_organizations"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="channel", name="channel_owner"),
        migrations.AddField(
            model_name="channel",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="channels",
                to="accounts.organization",
            ),
        ),
        migrations.RunSQL(TO_ORGANIZATION.format(table="notifications_channel"), migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="channel",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="channels", to="accounts.organization"
            ),
        ),
        migrations.RemoveField(model_name="channel", name="owner"),
        migrations.AddIndex(
            model_name="channel", index=models.Index(fields=["organization", "id"], name="channel_org")
        ),
    ]
