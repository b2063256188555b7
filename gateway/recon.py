"""3201 对总账, 3202 对明细账 with its 9101/9102 file flow (spec/nhsa-gateway.md §4.5, §5.6, §5.7).

``reconciliation/totals`` semantics (business days of ``setl_time``, reversals as one record each
with negative amounts) with the gateway's counting rule: a settlement undone by 2601 and that
reversal (``reversal_kind`` ``correction``), both inside [``stmt_begndate``, ``stmt_enddate``],
count as no record and no money.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from accounts.regions import pooling_region
from core.ids import new_setl_id
from gateway import wire
from gateway.errors import invalid
from gateway.models import ExchangeFile
from gateway.service import Call, Result
from settlement.models import Settlement

ZERO = Decimal("0.00")
FILE_DAYS = 7
UPLOAD_COLUMNS = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)
RESULT_COLUMNS = (
    "psn_no",
    "mdtrt_id",
    "setl_id",
    "msgid",
    "stmt_rslt",
    "refd_setl_flag",
    "memo",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
)
MAX_FILE_ROWS = 100_000


def counted(institution: Any, begin: dt.date, end: dt.date) -> QuerySet[Settlement]:
    """Settlements and reversals of the period, less 冲正 pairs lying wholly inside it (§4.5)."""
    qs = Settlement.objects.filter(institution=institution, setl_date__gte=begin, setl_date__lte=end)
    voided = Settlement.objects.filter(
        institution=institution,
        reversal_kind="correction",
        setl_date__gte=begin,
        setl_date__lte=end,
        orig__setl_date__gte=begin,
        orig__setl_date__lte=end,
    )
    return qs.exclude(Q(pk__in=voided.values("pk")) | Q(pk__in=voided.values("orig_id")))


def _period(call: Call) -> tuple[dict, str, dt.date, dt.date, str]:
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    begin = wire.date(node, "stmt_begndate", path, required=True)
    end = wire.date(node, "stmt_enddate", path, required=True)
    assert begin is not None and end is not None
    if end < begin:
        raise invalid(f"{path}.stmt_enddate", "早于开始日期")
    optins = pooling_region(call.institution.admdvs)
    sent = wire.text(node, "setl_optins", path, max_len=6) or wire.text(node, "clr_optins", path, max_len=6)
    if sent and sent != optins:
        raise invalid(f"{path}.setl_optins", "结算经办机构不符")
    return node, path, begin, end, optins


def totals(call: Call) -> Result:
    """3201: ``output.data`` {``setl_optins``, ``stmt_rslt`` "0"/"1", ``stmt_rslt_dscr``}."""
    node, path, begin, end, optins = _period(call)
    qs = counted(call.institution, begin, end)
    insutype = wire.text(node, "insutype", path, max_len=6)
    clr_type = wire.text(node, "clr_type", path, max_len=6)
    if insutype:
        qs = qs.filter(insutype=insutype)
    if clr_type:
        qs = qs.filter(clr_type=clr_type)
    cash = not wire.present(node, "acct_pay") and wire.present(node, "cash_payamt")
    third = "cash_payamt" if cash else "acct_pay"
    figures = {
        "medfee_sumamt": "medfee_sumamt",
        "fund_pay_sumamt": "fund_pay_sumamt",
        third: "psn_cash_pay" if cash else "acct_pay",
    }
    theirs = {k: wire.decimal(node, k, path, places=2, required=True, negative=True) for k in figures}
    count = wire.decimal(node, "fixmedins_setl_cnt", path, places=0, required=True)
    agg = qs.aggregate(n=Count("id"), **{k: Sum(col) for k, col in figures.items()})
    ours = {k: wire.money_out(agg[k] or ZERO) for k in figures}
    balanced = all(theirs[k] == ours[k] for k in figures) and count == agg["n"]
    dscr = (
        "平"
        if balanced
        else "不平[amount_mismatch] 中心: "
        + ", ".join([f"{k}={v}" for k, v in ours.items()] + [f"fixmedins_setl_cnt={agg['n']}"])
    )
    return Result(
        {"data": {"setl_optins": optins, "stmt_rslt": "0" if balanced else "1", "stmt_rslt_dscr": dscr}}
    )


def _rows_of(content: bytes, path: str) -> list[dict[str, str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise invalid(path, "压缩包须只含一个TXT文件")
            text = z.read(names[0]).decode("utf-8-sig")
    except (zipfile.BadZipFile, UnicodeDecodeError):
        raise invalid(path, "文件格式错误") from None
    rows = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        cells = line.split("\t")
        if len(cells) != len(UPLOAD_COLUMNS) or i >= MAX_FILE_ROWS:
            raise invalid(f"{path}[{i}]", "列数错误")
        rows.append(dict(zip(UPLOAD_COLUMNS, (c.strip() for c in cells), strict=True)))
    return rows


def details(call: Call) -> Result:
    """3202: the 9101 file ``file_qury_no`` compared with ours → a result file for 9102;
    ``output.fileinfo`` {``file_qury_no``, ``filename``, ``dld_endtime``}."""
    node, path, begin, end, _ = _period(call)
    qury = wire.text(node, "file_qury_no", path, required=True, max_len=30)
    f = ExchangeFile.objects.filter(
        file_qury_no=qury, institution=call.institution, kind="upload", expires_at__gt=call.received
    ).first()
    if f is None:
        raise invalid(f"{path}.file_qury_no", "文件不存在或已过期")
    rows = _rows_of(bytes(f.content), f"{path}.file_qury_no")
    theirs: dict[str, tuple[dict[str, str], dict[str, Decimal]]] = {}
    for i, r in enumerate(rows):
        figs = {
            k: wire.decimal(r, k, f"file[{i}]", places=2, required=True, negative=True)
            for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
        }
        theirs[r["setl_id"]] = (r, figs)  # type: ignore[assignment]
    for k in ("medfee_sumamt", "fund_pay_sumamt"):
        sent = wire.decimal(node, k, path, places=2, negative=True)
        if sent is not None and sent != sum((x[1][k] for x in theirs.values()), ZERO):
            raise invalid(f"{path}.{k}", "与文件合计不符")
    cnt = wire.decimal(node, "fixmedins_setl_cnt", path, places=0)
    if cnt is not None and cnt != len(theirs):
        raise invalid(f"{path}.fixmedins_setl_cnt", "与文件行数不符")
    ours = {s.setl_id: s for s in counted(call.institution, begin, end).select_related("person")}
    listed = {
        s.setl_id: s
        for s in Settlement.objects.select_related("person").filter(
            institution=call.institution, setl_id__in=list(theirs)
        )
    }
    out = [_result_row(sid, r, figs, listed.get(sid)) for sid, (r, figs) in theirs.items()]
    out += [_result_row(sid, None, None, s) for sid, s in ours.items() if sid not in theirs]
    stored = _store(call, "result", "result.zip", "result.txt", out)
    return Result(
        {
            "fileinfo": {
                "file_qury_no": stored.file_qury_no,
                "filename": stored.filename,
                "dld_endtime": wire.fmt_time(stored.expires_at),
            }
        }
    )


def _result_row(sid: str, r: dict | None, figs: dict | None, s: Settlement | None) -> list[str]:
    flag = "1" if s is not None and s.status == Settlement.Status.REVERSAL else "0"
    if s is None:
        memo, rslt = "only_in_institution", "1"
    elif r is None:
        memo, rslt = "only_in_center", "1"
    else:
        same = (
            figs == {k: getattr(s, k) for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")}
            and (r.get("refd_setl_flag") or "0") == flag
        )
        memo, rslt = ("", "0") if same else ("amount_mismatch", "1")
    src = s if s is not None else None
    money = [
        str(wire.money_out(getattr(src, k))) if src is not None else (r or {}).get(k, "")
        for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
    ]
    return [
        src.person.psn_no if src else (r or {}).get("psn_no", ""),
        src.mdtrt_id if src else (r or {}).get("mdtrt_id", ""),
        sid,
        src.medins_setl_id if src else "",
        rslt,
        flag,
        memo,
        *money,
    ]


def _store(call: Call, kind: str, filename: str, inner: str, rows: list[list[str]]) -> ExchangeFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        text = "\t".join(RESULT_COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
        z.writestr(zipfile.ZipInfo(inner, date_time=(1980, 1, 1, 0, 0, 0)), text.encode("utf-8"))
    return ExchangeFile.objects.create(
        file_qury_no=new_setl_id("F", at=call.received),
        institution=call.institution,
        kind=kind,
        filename=filename,
        content=buf.getvalue(),
        created_at=call.received,
        expires_at=call.received + dt.timedelta(days=FILE_DAYS),
    )


def file_upload(call: Call) -> Result:
    """9101 文件上传 ([UNCONFIRMED] shape): ``input.fsUploadIn`` {``filename``, ``in`` (bytes as a
    list of 0–255 or base64 text)} → ``output`` {``file_qury_no``, ``filename``, ``dld_endtime``}."""
    path, node = wire.node_name(call.input, "fsUploadIn"), wire.node(call.input, "fsUploadIn")
    filename = wire.text(node, "filename", path, required=True, max_len=100)
    raw = node.get("in")
    try:
        if isinstance(raw, list):
            content = bytes(int(b) for b in raw)
        elif isinstance(raw, str):
            content = base64.b64decode(raw, validate=True)
        else:
            raise ValueError
    except (ValueError, TypeError):
        raise invalid(f"{path}.in", "文件内容格式错误") from None
    _rows_of(content, f"{path}.in")
    f = ExchangeFile.objects.create(
        file_qury_no=new_setl_id("F", at=call.received),
        institution=call.institution,
        kind="upload",
        filename=filename,
        content=content,
        created_at=call.received,
        expires_at=call.received + dt.timedelta(days=FILE_DAYS),
    )
    return Result(
        {"file_qury_no": f.file_qury_no, "filename": f.filename, "dld_endtime": wire.fmt_time(f.expires_at)}
    )


def file_download(call: Call) -> Result:
    """9102 文件下载 ([UNCONFIRMED] shape): ``input.fsDownloadIn`` {``file_qury_no``} →
    ``output`` {``filename``, ``file_data`` (base64 of the zip)}."""
    path, node = wire.node_name(call.input, "fsDownloadIn"), wire.node(call.input, "fsDownloadIn")
    qury = wire.text(node, "file_qury_no", path, required=True, max_len=30)
    f = ExchangeFile.objects.filter(
        file_qury_no=qury, institution=call.institution, expires_at__gt=call.received
    ).first()
    if f is None:
        raise invalid(f"{path}.file_qury_no", "文件不存在或已过期")
    return Result({"filename": f.filename, "file_data": base64.b64encode(bytes(f.content)).decode()})
