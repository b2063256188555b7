"""Card-only holders (spec/cards.md §Changes to other parts): every login is keyed by the blind
index of its ``certno``; ``person`` is empty for a holder with a registry card and no medical person."""

from django.db import migrations, models
import django.db.models.deletion


def fill_certno_bidx(apps, schema_editor):
    """Existing logins all belong to persons: copy the person's blind index (same HMAC, same key)."""
    login_model = apps.get_model("cardholder", "CardholderLogin")
    for login in login_model.objects.select_related("person").only("id", "person__certno_bidx").iterator():
        login_model.objects.filter(pk=login.pk).update(certno_bidx=login.person.certno_bidx)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_staffprofile_card_roles"),
        ("cardholder", "0002_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="cardholderlogin",
            name="certno_bidx",
            field=models.CharField(max_length=64, null=True, verbose_name="certificate number (blind index)"),
        ),
        migrations.AlterField(
            model_name="cardholderlogin",
            name="person",
            field=models.OneToOneField(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                related_name="cardholder_login", to="accounts.person", verbose_name="insured person",
            ),
        ),
        migrations.RunPython(fill_certno_bidx, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="cardholderlogin",
            name="certno_bidx",
            field=models.CharField(max_length=64, unique=True, verbose_name="certificate number (blind index)"),
        ),
    ]
