"""GB 11643 citizen identity numbers (``certno``): normalisation and validation.

Pure module (no Django): ``normalize_certno(raw) -> str`` gives the canonical 18-character form
used for storage and the blind index (spec/bureau-api.md §Reference data, spec/README.md §Glossary):

- surrounding whitespace trimmed; full-width digits and letters folded (NFKC);
- lower-case ``x`` check character stored as ``X``;
- 15-digit legacy numbers converted to 18 digits: ``"19"`` inserted after the 6-digit area code
  and the ISO 7064 MOD 11-2 check character appended;
- impossible birth dates (``19800230``), future ones and wrong check characters rejected.

Every refusal raises :class:`InvalidCertno` (a ``ValueError``) with ``code = "invalid_certno"``
and a ``reason`` (``format``, ``date``, ``check_digit``).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17-i) mod 11
CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11

# ASCII digits only (after NFKC): ``\d`` would also take Arabic-Indic or Devanagari digits, which
# NFKC keeps as they are, and store a certno no other spelling of the same number matches.
_RE_18 = re.compile(r"^[0-9]{17}[0-9X]$")
_RE_15 = re.compile(r"^[0-9]{15}$")


class InvalidCertno(ValueError):
    """A ``certno`` that is not a valid GB 11643 number. ``code`` is always ``invalid_certno``."""

    code = "invalid_certno"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (``0``-``9`` or ``X``)."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _birth_date(yyyymmdd: str, today: dt.date) -> dt.date:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise InvalidCertno("date", f"birth date {yyyymmdd} does not exist") from None
    if born.year < 1880 or born > today:
        raise InvalidCertno("date", f"birth date {yyyymmdd} is impossible")
    return born


def normalize_certno(raw: str, *, today: dt.date | None = None) -> str:
    """The canonical 18-character ``certno`` of ``raw`` (see module doc). Raises :class:`InvalidCertno`."""
    if not isinstance(raw, str):
        raise InvalidCertno("format", "certno must be a string")
    value = unicodedata.normalize("NFKC", raw).strip().upper()
    today = today or dt.datetime.now(dt.UTC).date()
    if _RE_15.match(value):
        _birth_date("19" + value[6:12], today)
        first17 = value[:6] + "19" + value[6:]
        return first17 + check_char(first17)
    if not _RE_18.match(value):
        raise InvalidCertno("format", "certno must be 17 digits and a check digit (or X), or 15 digits")
    _birth_date(value[6:14], today)
    if check_char(value[:17]) != value[17]:
        raise InvalidCertno("check_digit", "certno check digit does not match (ISO 7064 MOD 11-2)")
    return value


def birth_date_of(certno: str) -> dt.date:
    """Birth date encoded in a normalised 18-character ``certno``."""
    return dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))


def mask_certno(certno: str) -> str:
    """``3401**********1234``: first 4 and last 4 kept (spec/security.md §Personal data at rest)."""
    if len(certno) <= 8:
        return "*" * len(certno)
    return certno[:4] + "*" * (len(certno) - 8) + certno[-4:]


def mask_name(name: str) -> str:
    """Names masked keeping the first character: ``张**``."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)
