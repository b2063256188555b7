"""Test-only: a pause inside the close transaction, injected into the real Celery worker that
``test_worker_killed_mid_close_then_redelivered`` and the queue tests start (imported through
``CELERY_IMPORTS`` of :mod:`tests.clearing.worker_settings`), so a test can kill the worker
mid-close. ``CLEARING_CLOSE_TEST_DELAY`` seconds (a time); 0 or unset: nothing is patched. The
production close has no hook for it."""

import logging
import os
import time

from clearing.services import close

DELAY = float(os.environ.get("CLEARING_CLOSE_TEST_DELAY", "0"))
logger = logging.getLogger("kuasheng.clearing.close")

if DELAY:
    _post_prefunds = close._post_prefunds

    def _paused(*args, **kwargs):  # the head is written, the transaction still open
        logger.warning("close paused %ss for a test", DELAY)
        time.sleep(DELAY)
        return _post_prefunds(*args, **kwargs)

    close._post_prefunds = _paused
