"""Which ``infno`` is served, by which handler, and what the others answer (spec/nhsa-gateway.md §1).

A handler takes a :class:`gateway.service.Call` and returns a :class:`gateway.service.Result`;
``kind`` decides the ``msgid`` rule of §3.2 (a write's answer is stored and replayed byte for byte,
a read is answered afresh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway import correction, lines, persons, queries, recon, settle, signin, visits
from gateway.errors import Refusal


@dataclass(frozen=True)
class Handler:
    kind: str  # "read" | "write"
    run: Callable[[Any], Any]


HANDLERS: dict[str, Handler] = {
    "9001": Handler("write", signin.sign_in),
    "9002": Handler("write", signin.sign_out),
    "1101": Handler("read", persons.person_info),
    "2201": Handler("write", visits.outpatient_register),
    "2202": Handler("write", visits.visit_cancel),
    "2203": Handler("write", visits.outpatient_info),
    "2204": Handler("write", lines.lines_upload),
    "2205": Handler("write", lines.lines_remove),
    "2206": Handler("read", settle.preview),
    "2207": Handler("write", settle.settle),
    "2208": Handler("write", settle.reverse),
    "2401": Handler("write", visits.inpatient_admit),
    "2402": Handler("write", visits.inpatient_discharge),
    "2404": Handler("write", visits.visit_cancel),
    "2405": Handler("write", visits.discharge_undo),
    "2301": Handler("write", lines.lines_upload),
    "2302": Handler("write", lines.lines_remove),
    "2303": Handler("read", settle.preview),
    "2304": Handler("write", settle.settle),
    "2305": Handler("write", settle.reverse),
    "2601": Handler("write", correction.correct),
    "3201": Handler("read", recon.totals),
    "3202": Handler("read", recon.details),
    "9101": Handler("write", recon.file_upload),
    "9102": Handler("read", recon.file_download),
    "5203": Handler("read", queries.settlement_info),
    "5204": Handler("read", queries.settlement_lines),
}

_REFUSED_RANGES: tuple[tuple[int, int, str], ...] = (
    (2403, 2403, "不支持住院信息变更，请入院撤销后重新办理"),
    (2001, 2001, "待遇检查、机构、目录与字典请向就医地平台获取"),
    (1201, 1201, "待遇检查、机构、目录与字典请向就医地平台获取"),
    (1301, 1319, "待遇检查、机构、目录与字典请向就医地平台获取"),
    (1901, 1901, "待遇检查、机构、目录与字典请向就医地平台获取"),
    (2501, 2507, "备案由参保地经办机构办理"),
    (5301, 5304, "备案由参保地经办机构办理"),
    (3101, 3103, "事前事中分析请向就医地平台申请"),
    (3203, 3204, "清算由本中心夜间轧差完成，不受理清算申请"),
    (3260, 3262, "清算由本中心夜间轧差完成，不受理清算申请"),
    (2101, 2103, "药店请使用 /api/v1/settlements"),
)


def served(infno: str) -> None:
    """Nothing for a served ``infno``; else the ``[unsupported_infno]`` refusal of §1."""
    if infno in HANDLERS:
        return
    if infno.isascii() and infno.isdigit():
        for low, high, text in _REFUSED_RANGES:
            if low <= int(infno) <= high:
                raise Refusal("unsupported_infno", text)
    raise Refusal("unsupported_infno", f"不支持的交易编号：{infno}")
