"""Identifiers issued by the service. ``setl_id`` grows with time so that ordering items by
``setl_id`` (the Merkle order, spec/clearing.md) follows insertion order cheaply."""
from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone


def new_setl_id(prefix: str = "S", *, at: dt.datetime | None = None) -> str:
    """UTC ``YYYYMMDDHHMMSSffffff`` (``at``, default now) + kind letter + 6 random hex = 27 chars
    (≤ 30). Kind letters: ``S`` settlement, ``R`` reversal, ``A`` adjustment, ``M`` visit
    (``mdtrt_id``), ``Q`` gateway sign-in (``sign_no``), ``F`` gateway file. Time first, so ids grow
    with time."""
    now = (at or timezone.now()).astimezone(dt.UTC)
    return f"{now:%Y%m%d%H%M%S%f}{prefix}{secrets.token_hex(3)}"


def new_request_id() -> str:
    return secrets.token_hex(16)
