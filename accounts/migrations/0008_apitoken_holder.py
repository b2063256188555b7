"""Cardholder tokens name the cardholder login (``holder``), so a card-only holder (no medical
person) can hold one; existing cardholder tokens get their person's login."""

from django.db import migrations, models
import django.db.models.deletion


def fill_holder(apps, schema_editor):
    token_model = apps.get_model("accounts", "ApiToken")
    login_model = apps.get_model("cardholder", "CardholderLogin")
    login_of = models.Subquery(login_model.objects.filter(person_id=models.OuterRef("person_id")).values("id")[:1])
    token_model.objects.filter(person__isnull=False, holder__isnull=True).update(holder_id=login_of)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_staffprofile_card_roles"),
        ("cardholder", "0003_card_only_holders"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="apitoken", name="token_one_owner"),
        migrations.AddField(
            model_name="apitoken",
            name="holder",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="tokens",
                to="cardholder.cardholderlogin", verbose_name="cardholder login",
            ),
        ),
        migrations.RunPython(fill_holder, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(user__isnull=False, person__isnull=True, holder__isnull=True)
                | (models.Q(user__isnull=True)
                   & (models.Q(person__isnull=False) | models.Q(holder__isnull=False))),
                name="token_one_owner",
            ),
        ),
    ]
