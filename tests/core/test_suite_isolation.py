"""The suite runs in two pytest-xdist workers (``make test``), which hand out whole files: a
transactional test's closing flush can then come before another file's ordinary tests, which
pytest-django's own ordering (transactional tests last) otherwise hides."""

import pytest
from django.core.management import call_command

from accounts.models import Region


@pytest.mark.django_db(transaction=True)
def test_the_regions_the_data_migration_shipped_survive_a_flush():
    """Before: 15 tests of other files failed with ``unknown_region`` when they ran after a flush."""
    assert Region.objects.count() == 72
    call_command("flush", verbosity=0, interactive=False)
    assert Region.objects.count() == 72
    assert Region.objects.get(admdvs="340000").name == "安徽省"
