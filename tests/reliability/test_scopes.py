"""Every endpoint of the OpenAPI schema × every role against spec/security.md §Scopes (issue 7 §3),
and no role reads another's personal data."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import transaction

from tests.reliability.bills import PERSONS
from tests.reliability.conftest import role_group
from tests.reliability.scope_table import GROUPS, table

METHODS = ("get", "post", "put", "patch", "delete")
# Persons insured in each bureau's province (data/examples/persons.csv): a bureau may read these.
PROVINCE_OF_PERSON = {psn: psn[:2] + "0000" for psn in PERSONS}
BUREAU_ADMDVS = {"bureau_payer": "340000", "bureau_payee": "310000", "bureau_other": "440000"}


def schema_operations() -> set[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if m in METHODS}


@pytest.mark.django_db
def test_expectation_table_covers_every_endpoint_of_the_schema(world):
    ops = schema_operations()
    covered = set(table(world))
    assert ops - covered == set(), "endpoints without a scope expectation"
    assert covered - ops == set(), "expectations for endpoints the schema does not list"


def _call_rolled_back(world, role: str, method: str, path: str, body):  # noqa: ANN001, ANN202
    cache.clear()  # nonces, throttles and lockout counters: each call starts clean
    with transaction.atomic():
        resp = world.call(role, method, path, body)
        transaction.set_rollback(True)
    return resp


def _forbidden_personal_data(group: str, role: str) -> dict[str, str]:
    """Clear-text personal data this caller must never receive: label -> value."""
    out: dict[str, str] = {}
    for psn, (certno, name, card_no, _sn) in PERSONS.items():
        own = group.startswith("card") and role == f"card:{psn}"
        province_bureau = group.startswith("bureau") and BUREAU_ADMDVS[group] == PROVINCE_OF_PERSON[psn]
        if own:
            continue
        if not province_bureau:
            out[f"certno of {psn}"] = certno
            out[f"card_no of {psn}"] = card_no
        names_allowed = group.startswith("inst") or group == "staff" or province_bureau
        if not names_allowed:
            out[f"name of {psn}"] = name
        if group.startswith("card") or group == "anon":
            out[f"psn_no of {psn}"] = psn
    return out


def _text(resp) -> str:  # noqa: ANN001
    raw = resp.content.decode("utf-8", "replace") if hasattr(resp, "content") else ""
    try:
        raw += json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        pass
    return raw


@pytest.mark.django_db
def test_every_endpoint_times_every_role(world):
    mismatches: list[str] = []
    leaks: list[str] = []
    calls = 0
    for (method, template), (path, body, expected) in sorted(table(world).items()):
        assert set(expected) == set(GROUPS)
        for role in world.roles:
            group = role_group(role)
            resp = _call_rolled_back(world, role, method, path, body)
            calls += 1
            if resp.status_code not in expected[group]:
                mismatches.append(
                    f"{method} {template} as {role} ({group}): {resp.status_code} "
                    f"not in {sorted(expected[group])}: {resp.content[:160]!r}"
                )
            text = _text(resp)
            for label, value in _forbidden_personal_data(group, role).items():
                if value in text:
                    leaks.append(f"{method} {template} as {role}: {label} in the answer")
    assert calls >= 17 * 50
    assert not mismatches, "\n".join(mismatches)
    assert not leaks, "\n".join(leaks)
