"""Deny-list documents (spec/cards.md §Deny lists) from plain values. No Django.

An entry is ``(card_ref, reason, since)`` (``since`` an aware datetime). A full list at V and a
delta from S to V are dicts whose RFC 8785 canonical bytes are what is signed; ``list_sha256``
is the hex SHA-256 of the canonical bytes of the **full** ``entries`` array at V, so a reader that
applied a delta can check that it holds exactly list V.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

Entry = tuple[str, str, dt.datetime]  # card_ref, reason, since


def utc(at: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of an aware datetime."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def full_entries(entries: Iterable[Entry]) -> list[dict[str, str]]:
    """The ``entries`` array of a full list, ordered by ``card_ref`` (ASCII hex, as bytes)."""
    return [
        {"card_ref": ref, "reason": reason, "since": utc(since)} for ref, reason, since in sorted(entries)
    ]


def list_sha256(entries: list[dict[str, str]]) -> str:
    return hashlib.sha256(rfc8785.dumps(entries)).hexdigest()


def _envelope(kind: str, version: int, issued_at: dt.datetime, max_age: dt.timedelta) -> dict[str, Any]:
    return {
        "scheme": "card",
        "list": "deny",
        "type": kind,
        "version": version,
        "issued_at": utc(issued_at),
        "expires_at": utc(issued_at + max_age),
    }


def full_document(
    *, version: int, issued_at: dt.datetime, max_age: dt.timedelta, entries: Iterable[Entry]
) -> dict[str, Any]:
    """``{"scheme", "list", "type": "full", "version", "issued_at", "expires_at", "entry_cnt",
    "list_sha256", "entries": [{"card_ref", "reason", "since"}]}``."""
    items = full_entries(entries)
    return _envelope("full", version, issued_at, max_age) | {
        "entry_cnt": len(items),
        "list_sha256": list_sha256(items),
        "entries": items,
    }


def delta_entries(
    before: Mapping[str, tuple[str, dt.datetime]],
    after: Mapping[str, tuple[str, dt.datetime]],
    refs: Iterable[str],
) -> list[dict[str, str]]:
    """For each of ``refs`` whose entry differs between ``before`` (list S) and ``after`` (list V):
    ``{"card_ref", "op": "add", "reason", "since"}`` when listed at V, ``{"card_ref", "op":
    "remove"}`` when not; unchanged cards (e.g. added and removed in between) are left out."""
    out = []
    for ref in sorted(set(refs)):
        b, a = before.get(ref), after.get(ref)
        if a == b:
            continue
        if a is None:
            out.append({"card_ref": ref, "op": "remove"})
        else:
            out.append({"card_ref": ref, "op": "add", "reason": a[0], "since": utc(a[1])})
    return out


def delta_document(
    *,
    base_version: int,
    version: int,
    issued_at: dt.datetime,
    max_age: dt.timedelta,
    entries: list[dict[str, str]],
    full_sha256: str,
) -> dict[str, Any]:
    """``{"scheme", "list", "type": "delta", "base_version", "version", "issued_at", "expires_at",
    "entry_cnt", "list_sha256", "entries"}`` (``entries`` from :func:`delta_entries`)."""
    return _envelope("delta", version, issued_at, max_age) | {
        "base_version": base_version,
        "entry_cnt": len(entries),
        "list_sha256": full_sha256,
        "entries": entries,
    }


def canonical(doc: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(doc)
