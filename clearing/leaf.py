"""Merkle leaf of a clearing item (spec/clearing.md §Signed cycle head, RFC 9162 §2.1.1). No Django.

Leaf bytes are the RFC 8785 canonical JSON of
``{"clr_amt","clr_date","fixmedins_code","kind","payee","payer","setl_id"}`` with the amount as a
2-place string; the leaf hash is SHA-256(0x00 ‖ leaf bytes).

The card scheme's leaf (spec/cards.md): ``{"acceptor_code", "acpt_id", "clr_amt", "clr_date",
"kind", "payee", "payer", "scheme": "card"}``; a card item stores ``acpt_id`` in ``setl_id`` and
``acceptor_code`` in ``fixmedins_code`` (:func:`scheme_leaf_bytes` maps them back).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

import rfc8785

from core.money import fmt_money


def leaf_document(
    *,
    setl_id: str,
    kind: str,
    payer: str,
    payee: str,
    clr_amt: Decimal,
    fixmedins_code: str,
    clr_date: dt.date,
) -> dict[str, str]:
    return {
        "clr_amt": fmt_money(clr_amt) or "0.00",
        "clr_date": clr_date.isoformat(),
        "fixmedins_code": fixmedins_code,
        "kind": kind,
        "payee": payee,
        "payer": payer,
        "setl_id": setl_id,
    }


def leaf_bytes(**fields: object) -> bytes:
    return rfc8785.dumps(leaf_document(**fields))  # type: ignore[arg-type]


def card_leaf_document(
    *,
    acpt_id: str,
    kind: str,
    payer: str,
    payee: str,
    clr_amt: Decimal,
    acceptor_code: str,
    clr_date: dt.date,
) -> dict[str, str]:
    return {
        "acceptor_code": acceptor_code,
        "acpt_id": acpt_id,
        "clr_amt": fmt_money(clr_amt) or "0.00",
        "clr_date": clr_date.isoformat(),
        "kind": kind,
        "payee": payee,
        "payer": payer,
        "scheme": "card",
    }


def card_leaf_bytes(**fields: object) -> bytes:
    return rfc8785.dumps(card_leaf_document(**fields))  # type: ignore[arg-type]


# strings RFC 8785 writes exactly as they are: printable ASCII without '"' and '\\'
_PLAIN = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*", re.ASCII)


def card_leaf_hash(
    *, acpt_id: str, kind: str, payer: str, payee: str, clr_amt: Decimal, acceptor_code: str, clr_date: str
) -> bytes:
    """``leaf_hash(card_leaf_bytes(...))`` with ``clr_date`` already as ``YYYY-MM-DD``, for a batch
    of thousands: when every string is plain (:data:`_PLAIN`), the canonical bytes are written
    out directly (RFC 8785 §3.2: keys in code-unit order, no white space, such strings verbatim);
    any other string goes through the RFC 8785 encoder. Same bytes either way (tested)."""
    amount = fmt_money(clr_amt) or "0.00"
    if all(_PLAIN.fullmatch(s) for s in (acceptor_code, acpt_id, kind, payee, payer)):
        data = (
            f'{{"acceptor_code":"{acceptor_code}","acpt_id":"{acpt_id}","clr_amt":"{amount}",'
            f'"clr_date":"{clr_date}","kind":"{kind}","payee":"{payee}","payer":"{payer}","scheme":"card"}}'
        ).encode()
    else:
        data = card_leaf_bytes(
            acpt_id=acpt_id,
            kind=kind,
            payer=payer,
            payee=payee,
            clr_amt=clr_amt,
            acceptor_code=acceptor_code,
            clr_date=dt.date.fromisoformat(clr_date),
        )
    return leaf_hash(data)


def scheme_leaf_bytes(
    *,
    scheme: str,
    setl_id: str,
    kind: str,
    payer: str,
    payee: str,
    clr_amt: Decimal,
    fixmedins_code: str,
    clr_date: dt.date,
) -> bytes:
    """The leaf bytes of a stored item of ``scheme`` (``medical`` or ``card``)."""
    if scheme == "card":
        return card_leaf_bytes(
            acpt_id=setl_id,
            kind=kind,
            payer=payer,
            payee=payee,
            clr_amt=clr_amt,
            acceptor_code=fixmedins_code,
            clr_date=clr_date,
        )
    return leaf_bytes(
        setl_id=setl_id,
        kind=kind,
        payer=payer,
        payee=payee,
        clr_amt=clr_amt,
        fixmedins_code=fixmedins_code,
        clr_date=clr_date,
    )


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 ‖ data), 32 bytes."""
    return hashlib.sha256(b"\x00" + data).digest()
