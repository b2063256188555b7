"""A new installation starts at deny-list version 1, an empty full list, issued when the card
tables are created (spec/cards.md §Deny lists), so a reader always has a list to fetch."""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    Version = apps.get_model("cards", "DenyListVersion")
    if not Version.objects.exists():
        Version.objects.create(version=1, issued_at=timezone.now().replace(microsecond=0), cause="opening")


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    apps.get_model("cards", "DenyListVersion").objects.filter(version=1, cause="opening").delete()


class Migration(migrations.Migration):
    dependencies = [("cards", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
