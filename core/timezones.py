"""The house's time zone (spec/README.md §Units: a time without an offset is Asia/Shanghai)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
