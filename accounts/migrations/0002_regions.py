"""Ships the reference regions (GB/T 2260, ``accounts/data/regions.csv``) as a data migration, so
any directory can be imported first (spec/operations.md §Commands)."""
import csv
from pathlib import Path

from django.db import migrations


def load_regions(apps, schema_editor):
    Region = apps.get_model("accounts", "Region")
    path = Path(__file__).resolve().parent.parent / "data" / "regions.csv"
    with path.open(encoding="utf-8-sig") as fh:
        rows = [Region(admdvs=r["admdvs"], name=r["name"], level=r["level"], parent=r["parent"] or "")
                for r in csv.DictReader(fh)]
    Region.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
