"""The close's report (spec/operations.md §The main job): cycle head, net positions table, gross /
net / netting efficiency, prefund alerts; the signed documents written to ``out/`` and a PNG chart.
Reads what the close stored (heads, statements, alerts); computes nothing it then claims as the
service's figure, only the cross-checks (Σ net = 0.00, Σ |bilateral| = gross).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Latin province names for the chart when no CJK font is installed (matplotlib's default fonts
# have no CJK glyphs); with one (Debian: fonts-noto-cjk) both panels use the Chinese names.
EN = dict(
    zip(
        "110000 120000 130000 140000 150000 210000 220000 230000 310000 320000 330000 340000 350000 360000 "
        "370000 410000 420000 430000 440000 450000 460000 500000 510000 520000 530000 540000 610000 620000 "
        "630000 640000 650000 660000".split(),
        "Beijing Tianjin Hebei Shanxi Inner-Mongolia Liaoning Jilin Heilongjiang Shanghai Jiangsu "
        "Zhejiang Anhui Fujian Jiangxi Shandong Henan Hubei Hunan Guangdong Guangxi Hainan Chongqing "
        "Sichuan Guizhou Yunnan Tibet Shaanxi Gansu Qinghai Ningxia Xinjiang XPCC".split(),
        strict=True,
    )
)


@dataclass
class ClosedCycle:
    """What a closed cycle published: the head and every province's statement (parsed and raw)."""

    clr_date: str
    head: dict[str, Any]
    head_bytes: bytes
    head_sig: bytes
    key_id: str
    key_pem: bytes
    statements: dict[str, tuple[dict[str, Any], bytes, bytes]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)


def load_closed(clr_date: Any) -> ClosedCycle:
    """The stored head, statements and alerts of the closed cycle ``clr_date``."""
    from clearing.models import Alert, CycleHead, Statement
    from core.crypto import signing_key

    head = CycleHead.objects.get(cycle__scheme="medical", cycle__clr_date=clr_date)
    head_bytes = bytes(head.canonical)
    closed = ClosedCycle(
        clr_date=str(clr_date),
        head=json.loads(head_bytes),
        head_bytes=head_bytes,
        head_sig=bytes(head.signature),
        key_id=head.key_id,
        key_pem=_pem(signing_key(head.key_id)),
    )
    for st in Statement.objects.filter(cycle__scheme="medical", cycle__clr_date=clr_date).order_by("admdvs"):
        data = bytes(st.canonical)
        closed.statements[st.admdvs] = (json.loads(data), data, bytes(st.signature))
    alerts = Alert.objects.filter(cycle__scheme="medical", cycle__clr_date=clr_date)
    for a in alerts.order_by("admdvs", "kind"):
        closed.alerts.append(
            {
                "kind": a.kind,
                "admdvs": a.admdvs,
                "amount": a.amount,
                "threshold": a.threshold,
                "due_at": a.due_at,
            }
        )
    return closed


def _pem(key: Any) -> bytes:
    pem = key.public_pem()
    return pem if isinstance(pem, bytes) else pem.encode()


def write_documents(closed: ClosedCycle, out: Path) -> dict[str, Path]:
    """``head-D.json``/``.sig``, ``statement-D-ADMDVS.json``/``.sig`` (exact canonical bytes, raw
    64-byte Ed25519 signatures) and ``key-KID.pem``, as the API serves them."""
    out.mkdir(parents=True, exist_ok=True)
    d = closed.clr_date
    paths = {
        "head": out / f"head-{d}.json",
        "head_sig": out / f"head-{d}.sig",
        "key": out / f"key-{closed.key_id}.pem",
    }
    paths["head"].write_bytes(closed.head_bytes)
    paths["head_sig"].write_bytes(closed.head_sig)
    paths["key"].write_bytes(closed.key_pem)
    for adm, (_doc, data, sig) in closed.statements.items():
        (out / f"statement-{d}-{adm}.json").write_bytes(data)
        (out / f"statement-{d}-{adm}.sig").write_bytes(sig)
    return paths


def _bilateral(closed: ClosedCycle) -> list[tuple[str, str, Decimal, int]]:
    """(payer, payee, amount, cnt) from the statements' payable side (each pair once)."""
    rows = []
    for adm, (doc, _d, _s) in closed.statements.items():
        for line in doc["bilateral"]:
            if line["payable_cnt"]:
                rows.append((adm, line["counterparty"], Decimal(line["payable"]), line["payable_cnt"]))
    return rows


def cross_checks(closed: ClosedCycle) -> dict[str, Any]:
    """Σ net positions (must be 0.00) and Σ |bilateral| (must equal ``gross``)."""
    nets = sum((Decimal(v) for v in closed.head["net_positions"].values()), Decimal("0.00"))
    gross = sum((abs(a) for _p, _q, a, _c in _bilateral(closed)), Decimal("0.00"))
    return {
        "sum_net": f"{nets:.2f}",
        "sum_abs_bilateral": f"{gross:.2f}",
        "gross_matches": f"{gross:.2f}" == closed.head["gross"],
    }


def _fmt(value: str | Decimal) -> str:
    return f"{Decimal(value):,.2f}"


def render(closed: ClosedCycle, names: dict[str, str]) -> str:
    """The printed report of one closed cycle."""
    h = closed.head
    lines = [
        f"Cycle {h['clr_date']}  closed_at {h['closed_at']}  key {closed.key_id}",
        f"  item_cnt {h['item_cnt']} (cross-province)   tree_size {h['tree_size']} (all items)",
        f"  merkle_root      {h['merkle_root']}",
        f"  prev_head_sha256 {h['prev_head_sha256']}",
        "",
        f"{'province':<22}{'receivable':>16}{'payable':>16}{'net':>16}{'items':>7}{'intra':>14}"
        f"{'prefund before':>17}{'after':>16}",
    ]
    rows = sorted(closed.statements.items(), key=lambda kv: Decimal(kv[1][0]["net"]), reverse=True)
    for adm, (doc, _d, _s) in rows:
        if not doc["item_cnt"] and not doc["intra_province"]["cnt"]:
            continue
        name = f"{adm} {names.get(adm, '')}"
        intra = f"{_fmt(doc['intra_province']['amount'])}" if doc["intra_province"]["cnt"] else "-"
        lines.append(
            f"{name:<{22 - _wide(name)}}{_fmt(doc['receivable']):>16}{_fmt(doc['payable']):>16}"
            f"{_fmt(doc['net']):>16}{doc['item_cnt']:>7}{intra:>14}"
            f"{_fmt(doc['prefund']['before']):>17}{_fmt(doc['prefund']['after']):>16}"
        )
    checks = cross_checks(closed)
    lines += [
        "",
        f"gross {_fmt(h['gross'])}   net funding {_fmt(h['net_funding'])}   "
        f"netting efficiency {h['netting_efficiency']}  (1 − net/gross: "
        f"{(1 - Decimal(h['net_funding']) / Decimal(h['gross'])) * 100 if Decimal(h['gross']) else 0:.1f}% "
        "of the gross never has to move)",
        f"Σ net positions = {checks['sum_net']}   Σ |bilateral| = {_fmt(checks['sum_abs_bilateral'])}"
        f" {'= gross' if checks['gross_matches'] else '≠ gross (!)'}",
    ]
    if closed.alerts:
        lines.append("Prefund alerts:")
        for a in closed.alerts:
            extra = (
                f" threshold {_fmt(a['threshold'])}" if a["kind"] == "low_prefund" and a["threshold"] else ""
            )
            due = ""
            if a["due_at"]:
                due = f" due {a['due_at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M} Asia/Shanghai"
            lines.append(
                f"  {a['kind']:<13} {a['admdvs']} {names.get(a['admdvs'], '')}  "
                f"{_fmt(a['amount'])}{extra}{due}"
            )
    else:
        lines.append("Prefund alerts: none")
    return "\n".join(lines)


def _wide(text: str) -> int:
    """Extra columns taken by CJK characters (each is two wide in a terminal)."""
    return sum(1 for ch in text if ord(ch) > 0x2E80)


def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs (Noto Sans CJK first), or None."""
    from matplotlib import font_manager

    families = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei", "SimHei"):
        if name in families:
            return name
    return None


def chart(closed: ClosedCycle, names: dict[str, str], path: Path, top: int = 15) -> Path:
    """PNG: net position per province (left) and the largest bilateral flows (right), both
    labelled with province names: Chinese with a CJK font installed, else English (never codes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cjk = cjk_font()

    def label(adm: str) -> str:
        return (names.get(adm) if cjk else EN.get(adm)) or adm

    with plt.rc_context({"font.family": [cjk, "DejaVu Sans"]} if cjk else {}):
        nets = sorted(
            ((adm, float(Decimal(v))) for adm, v in closed.head["net_positions"].items()), key=lambda x: x[1]
        )
        flows = sorted(_bilateral(closed), key=lambda r: abs(r[2]), reverse=True)[:top]
        fig, (left, right) = plt.subplots(1, 2, figsize=(15, 8.5), gridspec_kw={"width_ratios": [1, 1.1]})
        left.barh(
            [label(a) for a, _ in nets],
            [v / 1e4 for _, v in nets],
            color=["#2e7d32" if v >= 0 else "#c62828" for _, v in nets],
        )
        left.set_xlabel("net position (10,000 yuan; + receives, − pays)")
        left.set_title(f"Net positions, cycle {closed.clr_date}")
        left.axvline(0, color="black", linewidth=0.6)
        left.tick_params(axis="y", labelsize=8)
        labels = [f"{label(p)} → {label(q)}" for p, q, _a, _c in flows][::-1]
        right.barh(labels, [float(a) / 1e4 for _p, _q, a, _c in flows][::-1], color="#1565c0")
        right.set_xlabel("gross obligation (10,000 yuan)")
        right.set_title(f"Largest {len(flows)} bilateral flows (payer → payee)")
        right.tick_params(axis="y", labelsize=8)
        h = closed.head
        fig.suptitle(
            f"gross {_fmt(h['gross'])}  net funding {_fmt(h['net_funding'])}  "
            f"efficiency {h['netting_efficiency']}  items {h['item_cnt']}",
            fontsize=11,
        )
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return path
