"""Organizations own what users owned: each user gets a personal organization, as its
owner, and their API keys act in it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils.text import slugify

ROLES = [("viewer", "Viewer"), ("editor", "Editor"), ("admin", "Admin"), ("owner", "Owner")]


def personal_organizations(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Organization = apps.get_model("accounts", "Organization")
    Membership = apps.get_model("accounts", "Membership")
    ApiKey = apps.get_model("accounts", "ApiKey")
    taken: set[str] = set()
    for user in User.objects.order_by("id").iterator():
        name = user.email.split("@")[0] or user.email
        base = slugify(name)[:50].strip("-") or "organization"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        organization = Organization.objects.create(name=name[:100], slug=slug)
        Membership.objects.create(organization=organization, user=user, role="owner")
        ApiKey.objects.filter(made_by=user).update(organization=organization)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="Organization",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("slug", models.SlugField(max_length=60, unique=True)),
                ("monitor_quota", models.PositiveIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["name", "id"]},
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.CharField(choices=ROLES, max_length=10)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="accounts.organization",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [models.UniqueConstraint(fields=("organization", "user"), name="membership_once")],
                "indexes": [models.Index(fields=["user", "created_at"], name="membership_user_first")],
            },
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.EmailField(max_length=254)),
                ("role", models.CharField(choices=ROLES, max_length=10)),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "invited_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["organization", "-created_at"], name="invitation_org_recent")],
            },
        ),
        migrations.RemoveIndex(model_name="apikey", name="apikey_owner_recent"),
        migrations.RenameField(model_name="apikey", old_name="owner", new_name="made_by"),
        migrations.AddField(
            model_name="apikey",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_keys",
                to="accounts.organization",
            ),
        ),
        migrations.RunPython(personal_organizations, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="api_keys", to="accounts.organization"
            ),
        ),
        migrations.AddIndex(
            model_name="apikey", index=models.Index(fields=["made_by", "-created_at"], name="apikey_maker_recent")
        ),
        migrations.AddIndex(
            model_name="apikey", index=models.Index(fields=["organization", "-created_at"], name="apikey_org_recent")
        ),
    ]
