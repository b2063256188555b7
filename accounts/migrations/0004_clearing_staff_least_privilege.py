"""Clearing-house staff are no longer superusers (issue 10 §1): existing ones lose
``is_superuser`` and join the ``clearing_staff`` group, which holds the ``view_*`` permissions of the
project's models (``accounts.services.access.clearing_staff_group`` keeps it up to date when staff
are created). On a fresh database there are no users and the permissions do not exist yet; the
group is then filled by the first ``create_staff``."""
from django.db import migrations

APPS = ("accounts", "settlement", "clearing", "cardholder", "core", "auth", "admin")


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    staff = User.objects.filter(staff_profile__role="clearing_staff")
    if not staff.exists():
        return
    group, _ = Group.objects.get_or_create(name="clearing_staff")
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=APPS,
                                                    codename__startswith="view_"))
    for user in staff:
        user.groups.add(group)
    staff.update(is_superuser=False, is_staff=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_account_credit"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
