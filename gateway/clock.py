"""The gateway's clock: receipt (``refmsg_time``, the x-tif timestamp window, the ids the gateway
issues) and answer (``respond_time``) times. Tests replace :data:`now` and :data:`answered` to
reproduce the spec's worked examples byte for byte."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

now: Callable[[], dt.datetime] = timezone.now


def _answered() -> dt.datetime:
    return now()


answered: Callable[[], dt.datetime] = _answered
