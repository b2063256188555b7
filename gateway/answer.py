"""The response envelope (spec/nhsa-gateway.md §3.3) and ``inf_refmsgid`` serials."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from gateway import wire
from gateway.errors import Refusal

REFMSGID_PREFIX = "000000"  # the clearing house has no region (§3.3, [UNCONFIRMED] as a national rule)


def next_refmsgid(received: dt.datetime) -> str:
    """``000000`` + ``yyyyMMddHHmmss`` (receipt, Asia/Shanghai) + 10-digit serial from a database
    sequence (PostgreSQL ``gateway_refmsgid_seq``; a row id on the embedded SQLite default)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT nextval('gateway_refmsgid_seq')")
            serial = cur.fetchone()[0]
    else:
        from gateway.models import RefSerial

        serial = RefSerial.objects.create().pk
    return f"{REFMSGID_PREFIX}{wire.stamp17(received)[:14]}{serial % 10**10:010d}"


def envelope(
    *,
    infcode: int,
    refmsgid: str,
    received: dt.datetime,
    responded: dt.datetime,
    err_msg: str,
    warn_msg: str | None,
    output: Any,
) -> dict[str, Any]:
    return {
        "infcode": infcode,
        "inf_refmsgid": refmsgid,
        "refmsg_time": wire.stamp17(received),
        "respond_time": wire.stamp17(responded),
        "err_msg": err_msg,
        "warn_msg": warn_msg,
        "cainfo": None,
        "signtype": None,
        "output": output,
    }


def success_bytes(
    *, refmsgid: str, received: dt.datetime, responded: dt.datetime, output: Any, warn_msg: str | None = None
) -> bytes:
    return wire.dumps(
        envelope(
            infcode=0,
            refmsgid=refmsgid,
            received=received,
            responded=responded,
            err_msg="",
            warn_msg=warn_msg,
            output=output,
        )
    )


def refusal_bytes(refusal: Refusal, received: dt.datetime, responded: dt.datetime) -> bytes:
    """``infcode`` -1, ``inf_refmsgid`` ``""`` (a refusal registers no ``msgid``), ``output`` null."""
    return wire.dumps(
        envelope(
            infcode=-1,
            refmsgid="",
            received=received,
            responded=responded,
            err_msg=refusal.err_msg,
            warn_msg=None,
            output=None,
        )
    )
