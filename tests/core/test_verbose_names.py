"""Every model of the project names itself and its fields for the admin (issue 14: no "Journal
entrys", "Policys" or "Clr amt"), and the names are translated (tests/bureau/test_i18n.py)."""
from __future__ import annotations

from django.apps import apps
from django.conf import settings

FRAMEWORK = ("django.", "rest_framework", "django_filters", "drf_spectacular")
# Apps that landed after the names were added and still owe them (issue 13 follow-up, named in the
# closing note of session 2): take an app off this list when its models are named.
NOT_YET_NAMED: tuple[str, ...] = ()


def _project_models() -> list:
    labels = [a for a in settings.INSTALLED_APPS
              if not a.startswith(FRAMEWORK) and a.rsplit(".", 1)[-1] not in NOT_YET_NAMED]
    return [m for label in labels for m in apps.get_app_config(label.rsplit(".", 1)[-1]).get_models()]


def test_every_model_and_field_has_an_explicit_verbose_name():
    models = _project_models()
    assert len(models) > 25
    unnamed = [m._meta.label for m in models if "verbose_name" not in m._meta.original_attrs
               or "verbose_name_plural" not in m._meta.original_attrs]
    assert unnamed == []
    fields = [f"{m._meta.label}.{f.name}" for m in models for f in m._meta.get_fields()
              if getattr(f, "concrete", False) and not f.auto_created and f._verbose_name is None]
    assert fields == []


def test_the_admin_shows_the_names():
    from django.utils import translation

    from clearing.models import ClearingItem, JournalEntry
    from settlement.models import Policy

    with translation.override("en"):
        assert str(JournalEntry._meta.verbose_name_plural) == "journal entries"
        assert str(Policy._meta.verbose_name_plural) == "policies"
        assert str(ClearingItem._meta.get_field("clr_amt").verbose_name) == "clearing amount"
    with translation.override("zh-hans"):
        assert str(JournalEntry._meta.verbose_name_plural) == "会计分录"
        assert str(Policy._meta.verbose_name_plural) == "参保地政策"
        assert str(ClearingItem._meta.get_field("clr_amt").verbose_name) == "清算金额"
