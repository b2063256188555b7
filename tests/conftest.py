"""Shared fixtures.

The suite runs against PostgreSQL and Redis when ``DATABASE_URL``/``REDIS_URL`` are set (CI,
``.ci/run``). Without them it runs on SQLite with eager Celery and skips the ``postgres``-marked
tests with a visible notice; ``KUASHENG_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns such a skip
into a failure.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models.signals import post_migrate

pytest_plugins = ["tests.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples"
REQUIRE_PG = os.environ.get("KUASHENG_REQUIRE_POSTGRES") == "1"
_skipped_for_pg: list[str] = []


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return [f"kuasheng: database={db} redis={'yes' if settings.REDIS_URL else 'no'} "
            f"celery={'broker' if settings.CELERY_BROKER_URL else 'eager'}"]


def pytest_collection_modifyitems(config, items):
    if settings.IS_POSTGRES:
        return
    if REQUIRE_PG:
        raise pytest.UsageError("KUASHENG_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL); skipped on the embedded SQLite default"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
            _skipped_for_pg.append(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _skipped_for_pg:
        terminalreporter.write_sep("!", f"NOTICE: {len(_skipped_for_pg)} PostgreSQL-only tests SKIPPED "
                                        "(no DATABASE_URL); .ci/run runs them", yellow=True, bold=True)


@pytest.fixture(autouse=True, scope="session")
def _flush_may_truncate():
    """The ledger and audit tables refuse ``TRUNCATE`` (core 0005, clearing 0007) unless the
    transaction sets ``kuasheng.allow_truncate``; only the flush between transactional tests does,
    with ``SET LOCAL`` (so for that one transaction)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):  # noqa: ANN001, ANN202
        return original(self, ["SET LOCAL kuasheng.allow_truncate = 'on'", *sql_list])

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


def _reseed_regions_after_flush(sender, using="default", **kwargs):  # noqa: ANN001, ANN003, ANN202
    """A transactional test ends with a flush, which also empties the regions the data migration
    ``accounts 0002_regions`` shipped; the flush then sends ``post_migrate``, and this puts them
    back, so a later test (in whatever order ``make test``'s workers run them) finds them."""
    if sender.label != "accounts":
        return
    from accounts.models import Region

    if not Region.objects.using(using).exists():
        from importlib import import_module

        from django.apps import apps

        import_module("accounts.migrations.0002_regions").load_regions(apps, None)


post_migrate.connect(_reseed_regions_after_flush, dispatch_uid="tests.reseed_regions_after_flush")


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Tasks run in the test process also when ``CELERY_BROKER_URL`` is set (CI): with no worker
    consuming the broker, ``.delay().get()`` would wait forever. A test that wants a real worker
    starts one with its own settings and sends through its own Celery app."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """Nonces, throttles and lockouts must not leak between tests."""
    from django.core.cache import cache

    try:
        cache.clear()
    except Exception:  # noqa: BLE001 - db cache table may not exist outside db tests
        pass
    yield
