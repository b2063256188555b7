"""Regions and institutions importers (spec/operations.md §Commands: ``regions.csv``,
``institutions.csv``)."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Institution, Region
from accounts.regions import regions_changed
from accounts.services._rows import (
    ADMDVS_RE,
    RowError,
    admdvs,
    choice,
    has_control_character,
    known_provinces,
    text,
)
from core.audit import audit_principal
from core.imports import ImportResult


def regions_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Upsert GB/T 2260 regions on ``admdvs`` (columns ``admdvs,name,level,parent``).
    Regions are national: ``province`` must be ``None`` (only ``import_reference`` loads them).
    Rejections: ``admdvs invalid_admdvs``, ``name required``, ``level invalid_choice``,
    ``parent invalid_admdvs``."""
    result = ImportResult(received=len(rows))
    with transaction.atomic():
        existing = {r.admdvs: r for r in Region.objects.all()}
        for n, row in enumerate(rows, start=1):
            try:
                code = text(row, "admdvs")
                if not ADMDVS_RE.match(code):
                    raise RowError("admdvs", "invalid_admdvs")
                name = text(row, "name", max_length=50)
                level = choice(row, "level", tuple(Region.Level.values))
                parent = text(row, "parent", required=False)
                if parent and not ADMDVS_RE.match(parent):
                    raise RowError("parent", "invalid_admdvs")
            except RowError as e:
                result.reject(n, e.field, e.code)
                continue
            values = {"name": name, "level": level, "parent": parent}
            current = existing.get(code)
            if current is None:
                existing[code] = Region.objects.create(admdvs=code, **values)
                result.created += 1
            elif all(getattr(current, k) == v for k, v in values.items()):
                result.unchanged += 1
            else:
                Region.objects.filter(admdvs=code).update(**values)
                result.updated += 1
        audit_principal(principal, "regions_import", "upload", "regions", detail=_counts(result))
        transaction.on_commit(regions_changed)
    regions_changed()
    return result


def institutions_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Upsert institutions on ``fixmedins_code`` (columns of ``institutions.csv``:
    ``fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs``). ``hosp_lv`` 1/2/3 is required
    for hospitals (type 1) and must be empty for pharmacies (type 2). ``province`` (bureau upload)
    rejects rows of other provinces with ``wrong_province``."""
    result = ImportResult(received=len(rows))
    provinces = known_provinces()
    with transaction.atomic():
        codes = [c for r in rows if not has_control_character(c := (r.get("fixmedins_code") or "").strip())]
        existing = {i.fixmedins_code: i for i in Institution.objects.filter(fixmedins_code__in=codes)}
        for n, row in enumerate(rows, start=1):
            try:
                code = text(row, "fixmedins_code", max_length=30)
                name = text(row, "fixmedins_name", max_length=200)
                kind = choice(row, "fixmedins_type", tuple(Institution.Type.values))
                lv = text(row, "hosp_lv", required=False)
                if kind == Institution.Type.HOSPITAL and lv not in ("1", "2", "3"):
                    raise RowError("hosp_lv", "invalid_choice")
                if kind == Institution.Type.PHARMACY and lv:
                    raise RowError("hosp_lv", "must_be_empty")
                region = admdvs(row, "admdvs", provinces, province)
                current = existing.get(code)
                if current is not None and province is not None and current.province != province:
                    raise RowError("fixmedins_code", "wrong_province")
            except RowError as e:
                result.reject(n, e.field, e.code)
                continue
            values = {"name": name, "fixmedins_type": kind, "hosp_lv": lv, "admdvs": region}
            if current is None:
                existing[code] = Institution.objects.create(fixmedins_code=code, **values)
                result.created += 1
            elif all(getattr(current, k) == v for k, v in values.items()):
                result.unchanged += 1
            else:
                for k, v in values.items():
                    setattr(current, k, v)
                current.save(update_fields=list(values))
                result.updated += 1
        audit_principal(principal, "institutions_import", "upload", province or "all", detail=_counts(result))
    return result


def _counts(result: ImportResult) -> dict[str, int]:
    return {"received": result.received, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "rejected": len(result.rejected)}
