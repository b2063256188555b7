"""Finding persons' personal data in clear text (spec/security.md §Personal data at rest: "A dump of
the database contains none of the persons' certno, names or card numbers in clear text. Logs
contain none either")."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(?<![0-9])[0-9]{15}(?:[0-9]{2}[0-9Xx])?(?![0-9])")


def certno_variants(certno: str) -> set[str]:
    """The 18-digit number, its lower-case-x spelling and the 15-digit legacy form (GB 11643:
    drop the century ``19`` and the check digit)."""
    out = {certno, certno.lower(), certno.upper()}
    if len(certno) == 18 and certno[6:8] == "19":
        out.add(certno[:6] + certno[8:17])
    return out


def find_personal_data(text: str, persons: Iterable[tuple[str, str, str]]) -> list[str]:
    """``persons``: ``(certno, name, card_no)``. Answers a description of each value found."""
    found: list[str] = []
    tokens = set(_DIGITS.findall(text))
    for certno, name, card_no in persons:
        for v in certno_variants(certno):
            if v in tokens or (len(v) == 18 and v.lower() in text):
                found.append(f"certno {v[:4]}…{v[-2:]}")
        if card_no and card_no in text:
            found.append(f"card_no {card_no[:3]}…")
        if name and len(name) >= 2 and name in text:
            found.append(f"name {name[0]}…")
    return found
