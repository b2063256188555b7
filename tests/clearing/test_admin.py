"""The admin lists every clearing model, read-only (no add, change or delete)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from clearing import models as m
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.clearing.helpers import load_prefunds, record_example_day

pytestmark = pytest.mark.django_db


def test_admin_pages_are_read_only():
    load_prefunds()
    record_example_day()
    cycle_close(clr_date=open_cycle_date(), actor="t")
    user = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    c = Client()
    c.force_login(user)
    models = [model for model in admin.site._registry if model._meta.app_label == "clearing"]
    assert len(models) == 15
    for model in models:
        name = model._meta.model_name
        assert c.get(f"/admin/clearing/{name}/").status_code == 200, name
        assert c.get(f"/admin/clearing/{name}/add/").status_code == 403, name
        obj = model.objects.first()
        if obj is not None:
            page = c.get(f"/admin/clearing/{name}/{obj.pk}/change/")
            assert page.status_code == 200 and b'name="_save"' not in page.content, name
    assert m.Cycle.objects.count() == 1
