"""Monitors and maintenance windows belong to an organization, not a user."""

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
        ("monitors", "0010_dependencies_and_confirmations"),
        ("accounts", "0003_organizations"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="monitor", name="monitors_mo_owner_i_1b298e_idx"),
        migrations.AddField(
            model_name="monitor",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="monitors",
                to="accounts.organization",
            ),
        ),
        migrations.RunSQL(TO_ORGANIZATION.format(table="monitors_monitor"), migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="monitor",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="monitors", to="accounts.organization"
            ),
        ),
        migrations.RemoveField(model_name="monitor", name="owner"),
        migrations.AddIndex(
            model_name="monitor", index=models.Index(fields=["organization", "id"], name="monitor_org")
        ),
        migrations.RemoveIndex(model_name="maintenancewindow", name="maintenance_owner_start"),
        migrations.AddField(
            model_name="maintenancewindow",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="maintenance_windows",
                to="accounts.organization",
            ),
        ),
        migrations.RunSQL(TO_ORGANIZATION.format(table="monitors_maintenancewindow"), migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="maintenancewindow",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="maintenance_windows",
                to="accounts.organization",
            ),
        ),
        migrations.RemoveField(model_name="maintenancewindow", name="owner"),
        migrations.AddIndex(
            model_name="maintenancewindow",
            index=models.Index(fields=["organization", "starts_at"], name="maintenance_org_start"),
        ),
    ]
