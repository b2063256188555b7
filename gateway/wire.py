"""The national wire format: JSON in with exact decimals, the response envelope out
(spec/nhsa-gateway.md §3.1, §3.3). No Django imports.

Numbers are read as ``Decimal`` (never ``float``) and written back as bare JSON numbers with their
own places, so ``1667.30`` stays ``1667.30``. Times: ``yyyy-MM-dd HH:mm:ss`` or
``yyyy-MM-ddTHH:mm:ss``, optionally with fractional seconds and an offset; without an offset
Asia/Shanghai. Empty strings and ``null`` mean absent.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import Invalid
from core.parsers import strict_loads
from gateway.errors import Refusal, invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONEY = Decimal("0.01")
_NUM = "\x00NUM\x00"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DECIMAL_RE = re.compile(r"-?\d{1,16}(\.\d{1,8})?", re.ASCII)


REASONS = {
    "duplicate_key": "键重复",
    "not_a_number": "不是数字",
    "too_deep": "嵌套过深",
    "invalid_character": "含非法字符",
    "parse_error": "JSON 格式错误",
}


def loads(raw: bytes | str, path: str = "body") -> Any:
    """Strict JSON (``core.parsers.strict_loads``: no duplicate keys, NaN or NUL) with exact
    decimals; a leading BOM is dropped. Raises ``[invalid] <path> <reason>``."""
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(path, "不是有效的UTF-8编码") from None
    try:
        return strict_loads(raw, exact=True)
    except Invalid as e:
        first = (e.errors or [{}])[0]
        field = first.get("field", "body")
        where = path if field == "body" else f"{path}.{field}" if path != "body" else field
        raise invalid(where, REASONS.get(first.get("code", ""), "JSON 格式错误")) from None


def dumps(value: Any) -> bytes:
    """The response bytes: 2-space indented UTF-8 JSON, key order kept, ``Decimal`` as a bare
    number with its places (the layout of the spec's worked examples, byte for byte)."""

    def mark(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: mark(v) for k, v in o.items()}
        if isinstance(o, list):
            return [mark(v) for v in o]
        if isinstance(o, Decimal):
            return _NUM + str(o)
        return o

    text = json.dumps(mark(value), ensure_ascii=False, indent=2)
    return re.sub('"\\\\u0000NUM\\\\u0000(-?[0-9.]+)"', r"\1", text).encode("utf-8")


def money_out(d: Decimal) -> Decimal:
    """An amount as written in ``output``: exactly 2 places, never ``-0.00``."""
    q = d.quantize(MONEY)
    return q if q != 0 else Decimal("0.00")


def ratio_out(d: Decimal) -> Decimal:
    q = d.quantize(Decimal("0.0001"))
    return q if q != 0 else Decimal("0.0000")


# ---------------------------------------------------------------- reading values of `input`
def present(node: dict, key: str) -> bool:
    v = node.get(key)
    return v is not None and v != ""


def text(node: dict, key: str, path: str, *, required: bool = False, max_len: int = 50) -> str:
    """A string field (a JSON number is accepted as its text). ``""`` when absent."""
    v = node.get(key)
    if v is None or v == "":
        if required:
            raise invalid(f"{path}.{key}", "不能为空")
        return ""
    if isinstance(v, bool) or isinstance(v, dict | list):
        raise invalid(f"{path}.{key}", "格式错误")
    s = str(v)
    if len(s) > max_len or any(ord(c) < 32 or ord(c) == 127 for c in s):
        raise invalid(f"{path}.{key}", "格式错误")
    return s


def decimal(
    node: dict, key: str, path: str, *, places: int, required: bool = False, negative: bool = False
) -> Decimal | None:
    """A number or a numeric string as an exact ``Decimal``; more non-zero places than ``places``
    → ``[invalid] <path> 小数位数超限``."""
    v = node.get(key)
    if v is None or v == "":
        if required:
            raise invalid(f"{path}.{key}", "不能为空")
        return None
    if isinstance(v, bool):
        raise invalid(f"{path}.{key}", "不是数字")
    if isinstance(v, int | Decimal):
        d = Decimal(v)
    elif isinstance(v, str) and _DECIMAL_RE.fullmatch(v.strip()):
        d = Decimal(v.strip())
    else:
        raise invalid(f"{path}.{key}", "不是数字")
    try:
        if d.is_finite() and d.as_tuple().exponent > 0:  # type: ignore[operator]  # 1E+2 → 100
            d = d.quantize(Decimal(1))
        if not d.is_finite() or abs(d) >= Decimal("1e16"):
            raise invalid(f"{path}.{key}", "数值超限")
        if d != d.quantize(Decimal(1).scaleb(-places)):
            raise invalid(f"{path}.{key}", "小数位数超限")
    except InvalidOperation:
        raise invalid(f"{path}.{key}", "数值超限") from None
    if d < 0 and not negative:
        raise invalid(f"{path}.{key}", "不能为负数")
    return d


def time(node: dict, key: str, path: str, *, required: bool = False) -> dt.datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` / ``yyyy-MM-ddTHH:mm:ss`` (fraction and offset optional; none =
    Asia/Shanghai) as an aware datetime."""
    v = node.get(key)
    if v is None or v == "":
        if required:
            raise invalid(f"{path}.{key}", "不能为空")
        return None
    if not isinstance(v, str) or not _TIME_RE.fullmatch(v):
        raise invalid(f"{path}.{key}", "时间格式错误")
    try:
        t = dt.datetime.fromisoformat(_fraction6(v))
    except ValueError:
        raise invalid(f"{path}.{key}", "时间格式错误") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=SHANGHAI)


def _fraction6(v: str) -> str:
    """.NET writes up to 7 fractional digits; Python reads at most 6."""
    m = re.search(r"\.(\d{7})", v)
    return v if m is None else v[: m.start() + 7] + v[m.end() :]


def date(node: dict, key: str, path: str, *, required: bool = False) -> dt.date | None:
    """``yyyy-MM-dd``, or a time whose time part is ``00:00:00`` (Json.NET writes dates so)."""
    v = node.get(key)
    if v is None or v == "":
        if required:
            raise invalid(f"{path}.{key}", "不能为空")
        return None
    if isinstance(v, str) and _DATE_RE.fullmatch(v):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise invalid(f"{path}.{key}", "日期格式错误") from None
    t = time(node, key, path)
    if t is None or (t.hour, t.minute, t.second, t.microsecond) != (0, 0, 0, 0):
        raise invalid(f"{path}.{key}", "日期格式错误")
    return t.date()


def fmt_time(t: dt.datetime) -> str:
    return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def stamp17(t: dt.datetime) -> str:
    """``yyyyMMddHHmmssSSS`` Asia/Shanghai (``refmsg_time``/``respond_time``)."""
    s = t.astimezone(SHANGHAI)
    return s.strftime("%Y%m%d%H%M%S") + f"{s.microsecond // 1000:03d}"


def node(inp: dict, *names: str, path: str = "input") -> dict:
    """The first of the object nodes ``names`` present in ``input`` (a single-object node may also
    come as ``data``); the fields directly in ``input`` when none is (GZSI 2601)."""
    for name in (*names, "data"):
        v = inp.get(name)
        if isinstance(v, dict):
            return v
        if v is not None:
            raise invalid(f"{path}.{name}", "格式错误")
    return inp


def node_name(inp: dict, *names: str) -> str:
    for name in (*names, "data"):
        if isinstance(inp.get(name), dict):
            return f"input.{name}"
    return "input"


def objects(inp: dict, name: str) -> list[dict]:
    """A list node that may come as one object (SZSI's ``feedetail``)."""
    v = inp.get(name)
    if v is None:
        return []
    if isinstance(v, dict):
        return [v]
    if isinstance(v, list) and all(isinstance(x, dict) for x in v):
        return v
    raise invalid(f"input.{name}", "格式错误")


__all__ = ["Refusal", "loads", "dumps"]
