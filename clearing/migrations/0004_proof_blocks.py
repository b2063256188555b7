"""Proof index of a closed cycle: hashes of aligned leaf blocks on the head (not signed), so an
inclusion proof reads O(n / block + block) rows instead of every leaf."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clearing', '0003_ledger_balance_trigger'),
    ]

    operations = [
        migrations.AddField(
            model_name='cyclehead',
            name='block_hashes',
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='cyclehead',
            name='block_size',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
