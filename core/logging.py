"""Personal data out of the logs (spec/security.md: logs carry no certno, names or card numbers;
spec/operations.md §Observability: one JSON object per line, masked "in every script").

A certno is found in *any spelling* ``accounts.certno.normalize_certno`` accepts: ASCII, full-width
(``３４０１…``) or other Unicode decimal digits, a lower-case or full-width ``x`` check character, the
15-digit legacy form, and the same percent-encoded in a URL (``%EF%BC%93…``). It is masked on its
*normalised* form (NFKC, upper case): ``３４０１０４１９８００１０１１２３ｘ`` → ``3401**********123X``, so
neither the digits nor the spelling survive. Anything of that shape is masked, whether or not its
check digit is right (a mistyped certno is personal data too).
"""
from __future__ import annotations

import logging
import re
import unicodedata
import urllib.parse
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

# A run of characters that each fold (NFKC) to a decimal digit or X: the candidates. ``\d`` is any
# Unicode decimal digit, as in normalize_certno's own patterns; the fold catches the rest
# (mathematical digits, full-width X).
_CANDIDATE_CHAR = r"[\dXx\uff38\uff58\U0001d7ce-\U0001d7ff]"
_WORD = r"[\dA-Za-z\uff21-\uff3a\uff41-\uff5a]"  # digits and Latin letters, ASCII or full-width
_RUN = re.compile(rf"(?<!{_WORD}){_CANDIDATE_CHAR}{{15,18}}(?!{_WORD})")
_ENCODED_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z])*%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z])*")
# a card number (spec/cards.md: 9 characters [A-Z0-9]) as the path segment after ``/cards/``
# (``/api/v1/cards/{card_no}``, ``/api/v1/me/cards/{card_no}/temporary-loss``)
_CARD_IN_PATH = re.compile(r"(/cards/)([A-Za-z0-9]{9})(?![A-Za-z0-9])")
_SHAPE_18 = re.compile(r"^[0-9]{17}[0-9X]$")
_SHAPE_15 = re.compile(r"^[0-9]{15}$")


def mask_certno(certno: str | None) -> str | None:
    """``340104198001011234`` → ``3401**********1234`` (first 4, last 4)."""
    if not certno:
        return certno
    if len(certno) <= 8:
        return "*" * len(certno)
    return certno[:4] + "*" * (len(certno) - 8) + certno[-4:]


def mask_name(name: str | None) -> str | None:
    """``示例甲`` → ``示*甲``; one-character names → ``*``."""
    if not name:
        return name
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _fold(run: str) -> str:
    """NFKC and upper case, then any remaining Unicode decimal digit as its ASCII digit."""
    folded = unicodedata.normalize("NFKC", run).upper()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in folded)


def _mask_run(m: re.Match[str]) -> str:
    value = _fold(m.group(0))
    if _SHAPE_18.match(value) or _SHAPE_15.match(value):
        return mask_certno(value) or ""
    return m.group(0)


def _mask_encoded(m: re.Match[str]) -> str:
    raw = m.group(0)
    decoded = urllib.parse.unquote(raw, errors="strict") if raw.isascii() else raw
    try:
        masked = _RUN.sub(_mask_run, decoded)
    except UnicodeDecodeError:  # pragma: no cover - unquote(errors="strict") on bad UTF-8
        return raw
    return masked if masked != decoded else raw


def _mask_card(m: re.Match[str]) -> str:
    card_no = m.group(2)
    return f"{m.group(1)}{card_no[:3]}****{card_no[-2:]}"


def mask_text(text: str) -> str:
    """``text`` with every certno-shaped run masked on its normalised form (see module doc), and
    a card number in a URL path (``/cards/A34000001/…`` → ``/cards/A34****01/…``, as
    spec/cards.md masks it in every answer, list and log line)."""
    try:
        text = _ENCODED_RUN.sub(_mask_encoded, text)
    except UnicodeDecodeError:
        pass
    return _CARD_IN_PATH.sub(_mask_card, _RUN.sub(_mask_run, text))


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


class MaskPersonalDataFilter(logging.Filter):
    """Masks anything shaped like an ID number in every log record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - never break logging
            return True
        masked = mask_text(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line (``python-json-logger``): ``time`` (ISO 8601 with offset),
    ``level``, ``logger``, ``message``, ``request_id``, ``principal``, ``route`` and, on access lines,
    ``status``, ``duration_ms``, ``method``; an exception as ``exc_info``. Every string value, the
    traceback included, passes through :func:`mask_text`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        import datetime as dt

        return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key in ("request_id", "principal", "route"):
            log_data.setdefault(key, "")
        # Django's own request lines ("Not Found: /…") carry status_code and the request object:
        # one name for the status, and no repr of the request (its path is in the message already).
        if "status_code" in log_data:
            log_data.setdefault("status", log_data.pop("status_code"))
        if not isinstance(log_data.get("request", ""), str):
            log_data.pop("request")
        return {k: _mask_value(v) for k, v in log_data.items()}
