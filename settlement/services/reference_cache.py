"""Policies and catalogue rows held in memory by each process (spec/policy.md: the rows valid on
the settlement's or the fee's date apply), invalidated by the reference stamp.

Every write to ``settlement_policy`` or ``settlement_catalogueitem`` changes the stamp
(:class:`settlement.models.ReferenceVersion`, set by database triggers in the same transaction), so
a batch reads the stamp once (one query) and drops the whole cache when it changed. Rows are
fetched on a miss, once per batch for all the batch's missing keys. Without the stamp row (e.g. a
test that flushed the tables) nothing is cached: every batch reads what it needs.

Thread-safe (gunicorn ``gthread``): a snapshot is never mutated after another thread may have
seen it change stamp; fills add whole keys under a lock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from settlement.models import CatalogueItem, Policy, ReferenceVersion

PolicyKey = tuple[str, str, str, str]  # insuplc_admdvs (or province), insutype, med_type_group, hosp_lv


@dataclass
class ReferenceSnapshot:
    """Policies by region and catalogue rows by (province, code), as of ``stamp``."""

    stamp: int | None
    policies: dict[str, dict[PolicyKey, list[Policy]]] = field(default_factory=dict)
    catalogue: dict[tuple[str, str], list[CatalogueItem]] = field(default_factory=dict)

    def load(self, *, regions: Iterable[str], catalogue: Iterable[tuple[str, str]]) -> None:
        """Fetch the regions' policies and the (province, code) catalogue rows not held yet: one
        query each at most."""
        missing = sorted({r for r in regions if r not in self.policies})
        if missing:
            found: dict[str, dict[PolicyKey, list[Policy]]] = {r: {} for r in missing}
            for p in Policy.objects.filter(insuplc_admdvs__in=missing).order_by("-begndate"):
                key = (p.insuplc_admdvs, p.insutype, p.med_type_group, p.hosp_lv)
                found[p.insuplc_admdvs].setdefault(key, []).append(p)
            with _lock:
                self.policies.update(found)
        wanted = {k for k in catalogue if k not in self.catalogue}
        if wanted:
            rows: dict[tuple[str, str], list[CatalogueItem]] = {k: [] for k in wanted}
            provinces = {p for p, _ in wanted}
            codes = {c for _, c in wanted}
            for row in CatalogueItem.objects.filter(admdvs__in=provinces, med_list_codg__in=codes):
                if (row.admdvs, row.med_list_codg) in rows:
                    rows[(row.admdvs, row.med_list_codg)].append(row)
            with _lock:
                self.catalogue.update(rows)

    def policy(self, region: str, insutype: str, group: str, hosp_lv: str, day: dt.date) -> Policy | None:
        """The newest version of the region's policy valid on ``day`` (the region must be loaded)."""
        rows = self.policies[region].get((region, insutype, group, hosp_lv), [])
        return next((p for p in rows if p.begndate <= day <= p.enddate), None)

    def catalogue_row(self, province: str, code: str, day: dt.date) -> CatalogueItem | None:
        """The province's row of ``code`` valid on ``day`` (the key must be loaded)."""
        return next((r for r in self.catalogue[(province, code)] if r.begndate <= day <= r.enddate), None)


_lock = threading.Lock()
_current = ReferenceSnapshot(stamp=None)


def reference_snapshot() -> ReferenceSnapshot:
    """The cache for the current stamp (one query): the process's, or a fresh one when the stamp
    changed; a private empty one when there is no stamp row."""
    global _current
    table = connection.ops.quote_name(ReferenceVersion._meta.db_table)
    with connection.cursor() as cur:  # raw: this read runs on every settle call
        cur.execute(f"SELECT stamp FROM {table} WHERE id = 1")  # noqa: S608
        row = cur.fetchone()
    stamp = row[0] if row else None
    if stamp is None:
        return ReferenceSnapshot(stamp=None)
    with _lock:
        if _current.stamp != stamp:
            _current = ReferenceSnapshot(stamp=stamp)
        return _current
