"""Reference uploads of the bureaus: catalogue, policies, opening accumulators
(spec/bureau-api.md §Reference data the bureau owns; files of ``data/examples/``).

Every importer is ``<entity>_import(*, rows, province, principal) -> ImportResult`` with rows as
``dict[str, str]`` (CSV or JSON), ``province`` the caller's province (``None`` = any) and honest
counts. Row numbers are 1-based data rows.

Versioned rows (catalogue, policies) are keyed by their code/key and ``begndate``: the same key and
``begndate`` again updates that version (or is ``unchanged``); a new version whose dates overlap
another version of the key (stored or in the same upload) is ``overlapping_catalogue`` /
``overlapping_policy``. **Whole request**: when any row overlaps nothing is written (the result
lists every rejected row with zero created/updated/unchanged) and the API answers ``422`` with that
code, so a bureau never ends up with half a new price list. Other bad rows are rejected one by one
and the rest is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from accounts.models import Person
from accounts.services._rows import known_provinces
from core.audit import audit_principal
from core.imports import ImportResult
from core.money import parse_quantity
from settlement.models import Accumulator, CatalogueItem, MedTypeGroup, Policy, Settlement
from settlement.requests import INSUTYPES
from settlement.services.reference_rows import (
    RowError,
    cell_admdvs,
    cell_choice,
    cell_dates,
    cell_money,
    cell_ratio,
    cell_raw,
    cell_req,
)


def _catalogue_row(row: dict[str, str], province: str | None) -> dict[str, Any]:
    admdvs = cell_admdvs(row, "admdvs", province)
    if not admdvs.endswith("0000"):
        raise RowError("admdvs", "not_a_province")
    code = cell_req(row, "med_list_codg")
    if len(code) > 50:
        raise RowError("med_list_codg", "max_length")
    ceiling = cell_raw(row, "pric_uplmt_amt")
    try:
        ceiling_d = parse_quantity(ceiling) if ceiling else None
    except ValueError:
        raise RowError("pric_uplmt_amt", "invalid_number") from None
    begin, end = cell_dates(row)
    return {
        "admdvs": admdvs,
        "med_list_codg": code,
        "med_list_name": cell_raw(row, "med_list_name")[:200],
        "list_type": cell_raw(row, "list_type")[:10],
        "chrgitm_lv": cell_choice(row, "chrgitm_lv", ("01", "02", "03")),
        "selfpay_prop": cell_ratio(row, "selfpay_prop", "0"),
        "pric_uplmt_amt": ceiling_d,
        "begndate": begin,
        "enddate": end,
    }


def _policy_row(row: dict[str, str], province: str | None, provinces: frozenset[str]) -> dict[str, Any]:
    begin, end = cell_dates(row)
    return {
        "insuplc_admdvs": cell_admdvs(row, "insuplc_admdvs", province, provinces),
        "insutype": cell_choice(row, "insutype", INSUTYPES),
        "med_type_group": cell_choice(row, "med_type_group", tuple(MedTypeGroup.values)),
        "hosp_lv": cell_choice(row, "hosp_lv", ("1", "2", "3"), allow_blank=True),
        "deductible": cell_money(row, "deductible"),
        "deductible_basis": cell_choice(row, "deductible_basis", tuple(Policy.DeductibleBasis.values)),
        "pool_prop": cell_ratio(row, "pool_prop"),
        "annual_cap": cell_money(row, "annual_cap"),
        "temp_prop_reduction": cell_ratio(row, "temp_prop_reduction", "0"),
        "begndate": begin,
        "enddate": end,
    }


def _versioned_import(
    *,
    model: type[CatalogueItem] | type[Policy],
    key_fields: tuple[str, ...],
    parse: Callable[..., dict[str, Any]],
    overlap_code: str,
    rows: list[dict[str, str]],
    province: str | None,
    principal: Any,
    action: str,
) -> ImportResult:
    result = ImportResult(received=len(rows))
    parsed: list[tuple[int, dict[str, Any]]] = []
    for n, row in enumerate(rows, start=1):
        try:
            parsed.append((n, parse(row, province)))
        except RowError as e:
            result.reject(n, e.field, e.code)
    overlaps = 0
    with transaction.atomic():
        keys = {tuple(v[f] for f in key_fields) for _, v in parsed}
        versions: dict[tuple, list[Any]] = {}
        for obj in model.objects.select_for_update().filter(**{f"{key_fields[0]}__in": {k[0] for k in keys}}):
            versions.setdefault(tuple(getattr(obj, f) for f in key_fields), []).append(obj)
        writes: list[tuple[Any, dict[str, Any]]] = []
        for n, v in parsed:
            key = tuple(v[f] for f in key_fields)
            same = next((o for o in versions.get(key, []) if o.begndate == v["begndate"]), None)
            others = [o for o in versions.get(key, []) if o is not same]
            if any(o.begndate <= v["enddate"] and v["begndate"] <= o.enddate for o in others):
                result.reject(n, "begndate", overlap_code)
                overlaps += 1
                continue
            if same is not None and all(getattr(same, f) == val for f, val in v.items()):
                result.unchanged += 1
                continue
            if same is None:
                same = model(**v)
                versions.setdefault(key, []).append(same)
                result.created += 1
            else:
                result.updated += 1
            for f, val in v.items():
                setattr(same, f, val)
            writes.append((same, v))
        if overlaps:
            transaction.set_rollback(True)
            result.created = result.updated = result.unchanged = 0
            return result
        for obj, _ in writes:
            obj.save()
        audit_principal(
            principal,
            action,
            model.__name__.lower(),
            province or "*",
            result.as_dict() | {"rejected": len(result.rejected)},
        )
    return result


def catalogue_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Catalogue rows (``catalogue.csv``) of ``province``'s treatment catalogue. Overlapping validity
    for the same ``(admdvs, med_list_codg)`` → whole upload refused, rows ``overlapping_catalogue``."""
    return _versioned_import(
        model=CatalogueItem,
        key_fields=("admdvs", "med_list_codg"),
        parse=_catalogue_row,
        overlap_code="overlapping_catalogue",
        rows=rows,
        province=province,
        principal=principal,
        action="catalogue.import",
    )


def policies_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Policies (``policies.csv``) keyed by ``(insuplc_admdvs, insutype, med_type_group, hosp_lv)``.
    Overlapping validity → whole upload refused, rows ``overlapping_policy``; an ``insuplc_admdvs``
    of a province not listed in the regions → that row ``unknown_region``."""
    provinces = known_provinces()
    return _versioned_import(
        model=Policy,
        key_fields=("insuplc_admdvs", "insutype", "med_type_group", "hosp_lv"),
        parse=lambda row, province: _policy_row(row, province, provinces),
        overlap_code="overlapping_policy",
        rows=rows,
        province=province,
        principal=principal,
        action="policies.import",
    )


def _accumulator_row(row: dict[str, str]) -> dict[str, Any]:
    raw_year = cell_req(row, "year")
    if not raw_year.isdigit() or not 2000 <= int(raw_year) <= 2100:
        raise RowError("year", "invalid_year")
    return {
        "psn_no": cell_req(row, "psn_no"),
        "year": int(raw_year),
        "insutype": cell_choice(row, "insutype", INSUTYPES),
        "med_type_group": cell_choice(row, "med_type_group", tuple(MedTypeGroup.values)),
        "deductible_used": cell_money(row, "deductible_used"),
        "fund_paid": cell_money(row, "fund_paid"),
    }


def accumulators_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Opening accumulators (``accumulators.csv``). Per row: unknown ``psn_no`` → ``unknown_person``;
    a person of another province → ``wrong_province``; a person and year that already has
    settlements → ``accumulator_in_use`` (settlements' moves are never overwritten). Each row is
    checked and written under the person's row lock."""
    result = ImportResult(received=len(rows))
    with transaction.atomic():
        for n, row in enumerate(rows, start=1):
            try:
                v = _accumulator_row(row)
                person = Person.objects.select_for_update().filter(psn_no=v["psn_no"]).first()
                if person is None:
                    raise RowError("psn_no", "unknown_person")
                if province is not None and person.province != province:
                    raise RowError("psn_no", "wrong_province")
                if Settlement.objects.filter(person=person, accum_year=v["year"]).exists():
                    raise RowError("psn_no", "accumulator_in_use")
            except RowError as e:
                result.reject(n, e.field, e.code)
                continue
            key = {
                "person": person,
                "year": v["year"],
                "insutype": v["insutype"],
                "med_type_group": v["med_type_group"],
            }
            acc = Accumulator.objects.filter(**key).first()
            if acc is None:
                Accumulator.objects.create(
                    **key, deductible_used=v["deductible_used"], fund_paid=v["fund_paid"]
                )
                result.created += 1
            elif (acc.deductible_used, acc.fund_paid) == (v["deductible_used"], v["fund_paid"]):
                result.unchanged += 1
            else:
                acc.deductible_used, acc.fund_paid = v["deductible_used"], v["fund_paid"]
                acc.save(update_fields=["deductible_used", "fund_paid"])
                result.updated += 1
        audit_principal(
            principal,
            "accumulators.import",
            "accumulator",
            province or "*",
            result.as_dict() | {"rejected": len(result.rejected)},
        )
    return result
