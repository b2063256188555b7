"""Settings for the real Celery worker started by ``test_worker_kill`` (tests only): the project's
settings plus a pause inside the close and a short Redis visibility timeout so the message of a
killed worker is redelivered within the test."""

import os

from config.settings import *  # noqa: F403

CLEARING_CLOSE_TEST_DELAY = float(os.environ.get("CLEARING_CLOSE_TEST_DELAY", "0"))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3}
