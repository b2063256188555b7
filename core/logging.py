"""Log filter masking personal data (spec/security.md: logs carry no certno, names or card numbers)."""
from __future__ import annotations

import logging
import re

# 18-digit resident ID (last may be X) or 15-digit legacy number.
_CERTNO = re.compile(
    r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])"
    r"|(?<!\d)(\d{4})\d{7}(\d{4})(?!\d)"
)


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


def mask_text(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return mask_certno(m.group(0)) or ""

    return _CERTNO.sub(repl, text)


class MaskPersonalDataFilter(logging.Filter):
    """Masks anything shaped like an ID number in every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - never break logging
            return True
        masked = mask_text(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True
