"""The signed documents of a close (spec/clearing.md §Signed cycle head and statements).

Money as 2-place strings (never ``"-0.00"``), ratios 4-place strings, counts integers, times UTC
``YYYY-MM-DDTHH:MM:SSZ``; bytes are RFC 8785 canonical JSON, signed with Ed25519 (raw 64 bytes).

The card scheme (spec/cards.md §The card scheme's clearing) adds ``"scheme": "card"`` to its head;
its statement has the medical statement's fields plus ``scheme``, ``settlement_agent`` and
``benefit_waived``, with ``acceptor_remittance`` / ``intra_province_remittance`` lines named by
``acceptor_code`` in place of the hospital lines. The medical documents are unchanged, byte for
byte. The card-only parts (agent, benefit waived) come from the card app through
:data:`clearing.schemes.STATEMENT_EXTRAS`, so clearing imports no other app.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clearing.models import Scheme
from clearing.schemes import statement_extra
from clearing.services.figures import Figures
from core.canonical import canonical_bytes
from core.money import ZERO, fmt_money, fmt_ratio

GENESIS = "0" * 64


def utc_time(at: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of an aware datetime."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Decimal | None) -> str:
    return fmt_money(value if value is not None else ZERO) or "0.00"


def head_document(
    *,
    clr_date: dt.date,
    closed_at: dt.datetime,
    figures: Figures,
    prev_head_sha256: str,
    scheme: str = Scheme.MEDICAL,
) -> dict[str, Any]:
    """The cycle head: ``net_positions`` over the provinces with a cross-province item; a card
    head also carries ``"scheme": "card"`` (a medical head names no scheme: its bytes predate it)."""
    n = figures.netting
    extra = {} if scheme == Scheme.MEDICAL else {"scheme": scheme}
    return extra | {
        "clr_date": clr_date.isoformat(),
        "closed_at": utc_time(closed_at),
        "item_cnt": n.item_cnt,
        "gross": money(n.gross),
        "net_funding": money(n.net_funding),
        "netting_efficiency": fmt_ratio(n.netting_efficiency),
        "tree_size": figures.tree_size,
        "merkle_root": figures.merkle_root.hex(),
        "net_positions": {adm: money(p.net) for adm, p in n.nets.items()},
        "prev_head_sha256": prev_head_sha256,
    }


def statement_document(
    *, admdvs: str, clr_date: dt.date, head_sha256: str, figures: Figures, prefund: dict[str, Any]
) -> dict[str, Any]:
    """One province's statement. ``prefund`` is ``{"before", "after", "alerts"}`` already formatted."""
    n = figures.netting
    pos = n.nets.get(admdvs)
    sides: dict[str, dict[str, Any]] = {}
    for b in n.bilateral:
        if admdvs not in (b.payer, b.payee):
            continue
        other = b.payee if b.payer == admdvs else b.payer
        line = sides.setdefault(
            other, {"payable": ZERO, "receivable": ZERO, "payable_cnt": 0, "receivable_cnt": 0}
        )
        if b.payer == admdvs:
            line["payable"] += b.amount
            line["payable_cnt"] += b.cnt
        else:
            line["receivable"] += b.amount
            line["receivable_cnt"] += b.cnt
    intra_cnt, intra_amt = figures.intra.get(admdvs, (0, ZERO))
    return {
        "clr_date": clr_date.isoformat(),
        "admdvs": admdvs,
        "head_sha256": head_sha256,
        "payable": money(pos.payable if pos else ZERO),
        "receivable": money(pos.receivable if pos else ZERO),
        "net": money(pos.net if pos else ZERO),
        "item_cnt": pos.item_cnt if pos else 0,
        "bilateral": [
            {
                "counterparty": other,
                "payable": money(v["payable"]),
                "receivable": money(v["receivable"]),
                "payable_cnt": v["payable_cnt"],
                "receivable_cnt": v["receivable_cnt"],
            }
            for other, v in sorted(sides.items())
        ],
        "intra_province": {"cnt": intra_cnt, "amount": money(intra_amt)},
        "hospital_remittance": [
            {"fixmedins_code": r.fixmedins_code, "amount": money(r.amount), "cnt": r.cnt}
            for r in figures.remittance
            if r.admdvs == admdvs
        ],
        "intra_province_remittance": [
            {"fixmedins_code": r.fixmedins_code, "amount": money(r.amount), "cnt": r.cnt}
            for r in figures.intra_remittance
            if r.admdvs == admdvs
        ],
        "prefund": prefund,
    }


def scheme_statement_document(
    *,
    scheme: str,
    admdvs: str,
    clr_date: dt.date,
    head_sha256: str,
    figures: Figures,
    prefund: dict[str, Any],
) -> dict[str, Any]:
    """The statement of ``scheme``: :func:`statement_document` for medical; for the card scheme
    its fields with the remittance lines named by ``acceptor_code`` (``acceptor_remittance``),
    plus ``scheme``, ``settlement_agent`` and ``benefit_waived`` (spec/cards.md)."""
    doc = statement_document(
        admdvs=admdvs, clr_date=clr_date, head_sha256=head_sha256, figures=figures, prefund=prefund
    )
    if scheme == Scheme.MEDICAL:
        return doc

    def acceptor_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"acceptor_code": r["fixmedins_code"], "amount": r["amount"], "cnt": r["cnt"]} for r in lines]

    doc["acceptor_remittance"] = acceptor_lines(doc.pop("hospital_remittance"))
    doc["intra_province_remittance"] = acceptor_lines(doc["intra_province_remittance"])
    extra = statement_extra(scheme, clr_date=clr_date, admdvs=admdvs)
    doc["scheme"] = scheme
    doc["settlement_agent"] = extra.get("settlement_agent", "")
    doc["benefit_waived"] = extra.get("benefit_waived", [])
    return doc


def statement_provinces(figures: Figures, account_provinces: list[str]) -> list[str]:
    """Provinces that get a statement: those with any item in the cycle and those holding a
    prefund account (so every account's before/after is published each day)."""
    provs = set(figures.netting.nets) | set(figures.intra) | set(account_provinces)
    return sorted(provs)


__all__ = [
    "GENESIS",
    "canonical_bytes",
    "head_document",
    "money",
    "scheme_statement_document",
    "statement_document",
    "statement_provinces",
    "utc_time",
]
