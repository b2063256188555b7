"""Province and pooling region of an ``admdvs`` (spec/README.md §Glossary)."""
from __future__ import annotations

from functools import lru_cache


def province_of(admdvs: str) -> str:
    """First 2 digits + ``0000``."""
    return admdvs[:2] + "0000"


@lru_cache(maxsize=1)
def _prefectures() -> frozenset[str]:
    from accounts.models import Region

    return frozenset(Region.objects.filter(level="prefecture").values_list("admdvs", flat=True))


def regions_changed() -> None:
    """Call after importing regions."""
    _prefectures.cache_clear()


def pooling_region(admdvs: str) -> str:
    """统筹区: itself if a listed prefecture; else first 4 digits + ``00`` if that is a listed
    prefecture; else its province (so Shanghai's districts pool at 310000)."""
    prefs = _prefectures()
    if admdvs in prefs:
        return admdvs
    pref = admdvs[:4] + "00"
    if pref in prefs:
        return pref
    return province_of(admdvs)
