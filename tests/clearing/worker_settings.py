"""Settings for the real Celery worker started by ``test_worker_kill`` and the queue tests (tests
only): the project's settings, a pause inside the close injected by :mod:`tests.clearing.close_pause`
(``CLEARING_CLOSE_TEST_DELAY`` seconds from the environment) and a short Redis visibility timeout so
the message of a killed worker is redelivered within the test."""

from config.settings import *  # noqa: F403

CELERY_IMPORTS = ("tests.clearing.close_pause",)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3}
