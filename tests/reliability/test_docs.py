"""docs/reliability.md names only tests that exist (issue 7 §Done when)."""
from __future__ import annotations

import re

from tests.reliability.harness import ROOT

DOC = ROOT / "docs" / "reliability.md"


def _references() -> list[tuple[str, str | None]]:
    """``(file, test or None)`` for each `tests/...py[::name]` and each following `::name`."""
    refs: list[tuple[str, str | None]] = []
    for line in DOC.read_text().splitlines():
        current = None
        for m in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", line):
            path, name = m.group(1), m.group(2)
            if path:
                current = path
            if current and (path or name):
                refs.append((current, name))
    return refs


def test_every_test_named_in_docs_reliability_exists():
    refs = _references()
    assert len(refs) >= 40
    missing = []
    for path, name in refs:
        f = ROOT / path
        if not f.exists() or (name and not re.search(rf"^\s*(async )?def {name}\(", f.read_text(), re.M)):
            missing.append(f"{path}::{name}" if name else path)
    assert missing == []
