"""Identifiers issued by the service. ``setl_id`` grows with time so that ordering items by
``setl_id`` (the Merkle order, spec/clearing.md) follows insertion order cheaply."""
from __future__ import annotations

import datetime as dt
import secrets


def new_setl_id(prefix: str = "S") -> str:
    """UTC ``YYYYMMDDHHMMSSffffff`` + kind letter + 6 random hex = 27 chars (≤ 30). Kind letters:
    ``S`` settlement, ``R`` reversal, ``A`` adjustment. Time first, so ids grow with time."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%d%H%M%S%f}{prefix}{secrets.token_hex(3)}"


def new_request_id() -> str:
    return secrets.token_hex(16)
