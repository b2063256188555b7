"""Every endpoint of the OpenAPI schema × every role against spec/security.md §Scopes (issue 7 §3),
and no role reads another's personal data."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import transaction

from tests.reliability.bills import PERSONS
from tests.reliability.conftest import role_group
from tests.reliability.scope_table import GROUPS, card_dispute_calls, extra_calls, table

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


def _call_rolled_back(world, role: str, method: str, path: str, body, audits: list | None = None):
    """One call in a savepoint that is rolled back; the audit records it appended go to ``audits``."""
    from core.models import AuditRecord

    cache.clear()  # nonces, throttles and lockout counters: each call starts clean
    with transaction.atomic():
        last = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
        resp = world.call(role, method, path, body)
        if audits is not None:
            audits.extend(AuditRecord.objects.filter(id__gt=last).values("actor", "role", "action", "detail"))
        transaction.set_rollback(True)
    return resp


# spec/security.md §Audit: "Every write (settlement, reversal, upload, filing, dispute, resolution,
# deposit, close, key rotation) and every person lookup appends an audit record".
AUDITED = {
    ("POST", "/api/v1/settlements"),
    ("POST", "/api/v1/settlements/batch"),
    ("POST", "/api/v1/settlements/{setl_id}/reversal"),
    ("POST", "/api/v1/persons/lookup"),
    ("POST", "/api/v1/persons"),
    ("GET", "/api/v1/persons/{psn_no}"),
    ("POST", "/api/v1/persons/{psn_no}/account-credits"),
    ("POST", "/api/v1/filings"),
    ("DELETE", "/api/v1/filings/{filing_id}"),
    ("POST", "/api/v1/catalogue"),
    ("POST", "/api/v1/policies"),
    ("POST", "/api/v1/accumulators"),
    ("POST", "/api/v1/disputes"),
    ("POST", "/api/v1/disputes/{dispute_id}/resolve"),
    ("POST", "/api/v1/disputes/{dispute_id}/escalate"),
    ("POST", "/api/v1/prefunds/{admdvs}/deposits"),
    ("POST", "/api/v1/prefunds/{admdvs}/withdrawals"),
    ("POST", "/api/v1/cycles/{clr_date}/statement/ack"),
}


def _forbidden_personal_data(group: str, role: str) -> dict[str, str]:
    """Clear-text personal data this caller must never receive: label -> value."""
    out: dict[str, str] = {}
    for psn, (certno, name, card_no, _sn) in PERSONS.items():
        own = group.startswith("card") and role == f"card:{psn}"
        province_bureau = group.startswith("bureau") and BUREAU_ADMDVS[group] == PROVINCE_OF_PERSON[psn]
        # Nobody, not even the person or the home bureau, gets a certno or card number in clear:
        # every answer masks them (hospital-api.md, bureau-api.md "masked", cardholder-api.md).
        out[f"certno of {psn}"] = certno
        out[f"card_no of {psn}"] = card_no
        if own:
            continue
        names_allowed = group.startswith("inst") or group == "staff" or province_bureau
        if not names_allowed:
            out[f"name of {psn}"] = name
        if group.startswith("card") or group == "anon":
            out[f"psn_no of {psn}"] = psn
    return out


def _foreign_records(world, role: str) -> dict[str, str]:
    """Settlements this caller has no business seeing: label -> setl_id. ``setl_a``/``setl_c`` are
    甲's at H31010400001 (payer 340000, payee 310000); ``setl_b`` is 乙's at H33010600001 (payer
    320000, payee 330000)."""
    group = role_group(role)
    sees_a = group in ("inst_owner", "bureau_payer", "bureau_payee", "staff", "card_owner")
    sees_b = role in ("inst:H33010600001", "staff", "card:32010000000000000002")
    out = {}
    if not sees_a:
        out |= {"setl_a": world.setl_a, "setl_c": world.setl_c}
    if not sees_b:
        out["setl_b"] = world.setl_b
    return out


def _text(resp) -> str:
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
    unaudited: list[str] = []
    calls = 0
    calls_by_endpoint = [(m, t, p, b, e) for (m, t), (p, b, e) in sorted(table(world).items())]
    for method, template, path, body, expected in calls_by_endpoint + card_dispute_calls(world):
        assert set(expected) == set(GROUPS)
        for role in world.roles:
            group = role_group(role)
            audits: list[dict] = []
            resp = _call_rolled_back(world, role, method, path, body, audits)
            calls += 1
            wrote = 200 <= resp.status_code < 300
            if template == "/api/v1/settlements/batch" and wrote:  # only items answered 201 wrote
                wrote = any(r["status"] == 201 for r in resp.json()["results"])
            if (method, template) in AUDITED and wrote:
                if not audits:
                    unaudited.append(
                        f"{method} {template} as {role}: {resp.status_code} without an audit record"
                    )
                audit_text = json.dumps(audits, ensure_ascii=False, default=str)
                for label, value in _forbidden_personal_data("anon", "anon").items():
                    if not label.startswith("psn_no") and value in audit_text:
                        leaks.append(f"{method} {template} as {role}: {label} in the audit record")
            if resp.status_code not in expected[group]:
                mismatches.append(
                    f"{method} {template} as {role} ({group}): {resp.status_code} "
                    f"not in {sorted(expected[group])}: {resp.content[:160]!r}"
                )
            text = _text(resp)
            for label, value in _forbidden_personal_data(group, role).items():
                if value in text:
                    leaks.append(f"{method} {template} as {role}: {label} in the answer")
            asked = path + json.dumps(body)
            for label, setl_id in _foreign_records(world, role).items():
                if setl_id in text and setl_id not in asked:
                    leaks.append(f"{method} {template} as {role}: {label} in the answer")
    for path, expected in extra_calls(world):
        for role in world.roles:
            group = role_group(role)
            resp = _call_rolled_back(world, role, "GET", path, None)
            calls += 1
            if resp.status_code not in expected[group]:
                mismatches.append(
                    f"GET {path} as {role}: {resp.status_code} not in {sorted(expected[group])}"
                )
            text = _text(resp)
            for label, value in _forbidden_personal_data(group, role).items():
                if value in text:
                    leaks.append(f"GET {path} as {role}: {label} in the answer")
            for label, setl_id in _foreign_records(world, role).items():
                if setl_id in text and setl_id not in path:
                    leaks.append(f"GET {path} as {role}: {label} in the answer")
    assert calls >= 17 * 50
    assert not mismatches, "\n".join(mismatches)
    assert not leaks, "\n".join(leaks)
    assert not unaudited, "\n".join(unaudited)


@pytest.mark.django_db
def test_django_admin_is_for_clearing_staff_only(world, settings):
    """spec/README.md §Roles, spec/bureau-api.md §Operations: the admin is clearing-house staff's."""
    from django.test import Client

    from accounts.services import staff_create

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    password = "Admin-walk-password-0123"
    staff_create(username="g-admin-staff", password=password, admdvs="000000", role="clearing_staff")
    staff_create(username="g-admin-bureau", password=password, admdvs="340000", role="bureau")
    anonymous = Client()
    assert anonymous.get("/admin/").status_code == 302
    bureau = Client()
    bureau.login(username="g-admin-bureau", password=password)
    resp = bureau.get("/admin/")
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]
    assert bureau.get("/admin/accounts/person/").status_code == 302
    # A bearer token (bureau, cardholder) or a signed request opens no admin session either.
    for role in ("bureau:payer", "staff", "card:34010000000000000001", "inst:H31010400001"):
        resp = world.call(role, "GET", "/admin/")
        assert resp.status_code == 302, role
    staff = Client()
    staff.login(username="g-admin-staff", password=password)
    assert staff.get("/admin/").status_code == 200
