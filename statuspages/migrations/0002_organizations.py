"""Status pages belong to an organization, not a user."""

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
        ("statuspages", "0001_initial"),
        ("accounts", "0003_organizations"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="statuspage", name="statuspage_owner"),
        migrations.AddField(
            model_name="statuspage",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="status_pages",
                to="accounts.organization",
            ),
        ),
        migrations.RunSQL(TO_ORGANIZATION.format(table="statuspages_statuspage"), migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="statuspage",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="status_pages", to="accounts.organization"
            ),
        ),
        migrations.RemoveField(model_name="statuspage", name="owner"),
        migrations.AddIndex(
            model_name="statuspage", index=models.Index(fields=["organization", "id"], name="statuspage_org")
        ),
    ]
