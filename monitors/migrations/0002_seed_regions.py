"""Seed the regions a fresh install starts with; admins can add more."""

from django.db import migrations

REGIONS = [("india", "India"), ("usa", "USA"), ("europe", "Europe")]


def seed(apps, schema_editor):
    Region = apps.get_model("monitors", "Region")
    for slug, name in REGIONS:
        Region.objects.get_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("monitors", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
