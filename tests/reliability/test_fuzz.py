"""Schema-driven fuzzing with schemathesis (issue 7 §1).

A live server (pytest-django's ``live_server``, real HTTP) serves ``/api/schema/``; for every
operation schemathesis generates cases, positive and negative, some with the world's real ids in
the path. Each case is sent as some role: institutions' requests signed from the exact bytes on the
wire by :class:`harness.HmacAuth` (a ``requests`` auth hook), bureaus, staff and cardholders with
their bearer tokens, sometimes anonymous. Every answer must be:

- never 5xx;
- problem+json (with ``Retry-After`` on 429/503) when an error;
- a refusal (4xx) changes nothing: the row counts of the money and reference tables are unchanged;
- and, in ``test_fuzzed_responses_conform_to_the_schema``, as the schema documents it: a documented
  status, content type and body shape (schemathesis' ``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``).

``RELIABILITY_FUZZ_CASES`` sets the total number of cases (default 300 for the normal suite; the full
run uses 1200: ``RELIABILITY_FUZZ_CASES=1200 pytest tests/reliability/test_fuzz.py``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import role_group
from tests.reliability.harness import BearerAuth, HmacAuth
from tests.reliability.scope_table import table

pytestmark = [pytest.mark.slow]

_LAST_RUN: dict[str, Any] = {}
TOTAL_CASES = int(os.environ.get("RELIABILITY_FUZZ_CASES", "300"))
COUNTED = [
    ("settlement", "Settlement"),
    ("settlement", "FeeDetail"),
    ("clearing", "ClearingItem"),
    ("clearing", "Dispute"),
    ("clearing", "PrefundPosting"),
    ("clearing", "StatementAck"),
    ("accounts", "Person"),
    ("accounts", "Filing"),
    ("accounts", "AccountCredit"),
    ("settlement", "CatalogueItem"),
    ("settlement", "Policy"),
    ("settlement", "Accumulator"),
    ("cardholder", "CardholderLogin"),
    ("accounts", "InstitutionClient"),
]
# Operations answered as files or text rather than JSON: schema conformance is their content type only.
TOKEN_KILLERS = {"/api/v1/cardholder/logout", "/api/v1/me/password", "/api/v1/auth/logout"}
SKIP_BODY_SCHEMA = {"/api/v1/cycles/{clr_date}/head.sig", "/api/v1/cycles/{clr_date}/statement.sig"}


def row_counts() -> dict[str, int]:
    from django.apps import apps

    return {f"{a}.{m}": apps.get_model(a, m).objects.count() for a, m in COUNTED}


def _auth_for(world, role: str):
    caller = world.callers[role]
    if hasattr(caller, "secret"):
        return HmacAuth(caller.client_id, caller.secret)
    return BearerAuth(caller["token"]) if caller["token"] else None


def _path_ids(world) -> dict[str, str]:
    return {
        "setl_id": world.setl_a,
        "clr_date": world.clr_date,
        "dispute_id": str(world.dispute_id),
        "filing_id": str(world.filing_id),
        "psn_no": "34010000000000000001",
        "key_id": world.key_id,
        "admdvs": "340000",
    }


@pytest.mark.django_db(transaction=True)
def test_fuzz_every_operation_no_5xx_conforms_and_refusals_change_nothing(world, live_server):
    import schemathesis
    from schemathesis.generation import GenerationMode

    raw = requests.get(live_server.url + "/api/schema/", headers={"Accept": "application/json"}, timeout=30)
    assert raw.status_code == 200
    schema = schemathesis.openapi.from_dict(
        raw.json()
        if raw.headers["Content-Type"].startswith("application/json")
        else __import__("yaml").safe_load(raw.text)
    )
    # Last: the operations that revoke tokens (cardholder and staff logout, password change).
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: o.path in TOKEN_KILLERS)
    assert len(operations) >= 45
    per_op = max(2, TOTAL_CASES // len(operations))
    expectations = table(world)
    ctx = Ctx(world=world, base_url=live_server.url)
    ids = _path_ids(world)

    for op in operations:
        key = (op.method.upper(), op.path)
        allowed = [
            r
            for r in world.roles
            if any(s < 300 for s in expectations.get(key, (None, None, {}))[2].get(role_group(r), ()))
        ]
        others = [r for r in world.roles if r not in allowed]
        known = {p.name: ids[p.name] for p in op.path_parameters if p.name in ids}
        strategies = [op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)]
        if known:
            strategies.append(op.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

        _runner(ctx, op, itertools.cycle(allowed or world.roles), others, st.one_of(strategies), per_op)()

    _LAST_RUN.update(stats=ctx.stats, schema=sorted(set(ctx.schema)))
    stats, hard = ctx.stats, ctx.hard
    assert stats["cases"] >= min(TOTAL_CASES, per_op * len(operations)) * 0.8, stats
    assert not hard, f"{len(hard)} failures in {stats}:\n" + "\n".join(sorted(set(hard))[:80])


def test_fuzzed_responses_conform_to_the_schema():
    """Every answer of the fuzz run above matches its documented content type and body schema."""
    if "schema" not in _LAST_RUN:
        pytest.skip("runs after test_fuzz_every_operation_no_5xx_conforms_and_refusals_change_nothing")
    problems = _LAST_RUN["schema"]
    assert not problems, f"{len(problems)} non-conforming answers:\n" + "\n".join(
        sorted({p.split(": ", 1)[0] + ": " + p.split(": ", 1)[1][:160] for p in problems})[:60]
    )


@dataclass
class Ctx:
    world: Any
    base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    hard: list[str] = field(default_factory=list)
    schema: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=lambda: {"cases": 0, "refused": 0, "by_status": {}})


def _runner(ctx: Ctx, op: Any, cycle: Any, others: list[str], strategy: Any, per_op: int) -> Any:
    """A Hypothesis test sending ``per_op`` cases of ``op``, each as the next role of ``cycle`` (or,
    one time in five, a role the scope table refuses)."""
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema_checks = [status_code_conformance, content_type_conformance, response_schema_conformance]

    @settings(
        max_examples=per_op,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        role = ctx.rng.choice(others) if others and ctx.rng.random() < 0.2 else next(cycle)
        before = row_counts()
        try:
            resp = case.call(
                base_url=ctx.base_url, session=ctx.session, auth=_auth_for(ctx.world, role), timeout=30
            )
        except requests.RequestException as e:
            ctx.hard.append(f"{op.method.upper()} {op.path} as {role}: no answer: {e!r}")
            return
        status = resp.status_code
        ctx.stats["cases"] += 1
        ctx.stats["by_status"][status] = ctx.stats["by_status"].get(status, 0) + 1
        label = f"{op.method.upper()} {case.formatted_path} as {role} -> {status}"
        if status >= 500:
            ctx.hard.append(f"{label}: server error {resp.text[:300]}")
            return
        if status >= 400:
            ctx.stats["refused"] += 1
            ctype = _header(resp, "Content-Type")
            if not ctype.startswith("application/problem+json"):
                ctx.hard.append(f"{label}: error without problem+json ({ctype})")
            try:
                problem = json.loads(resp.content)
                assert problem["status"] == status and problem["code"]
            except (ValueError, TypeError, KeyError, AssertionError):
                ctx.schema.append(
                    f"{op.method.upper()} {op.path} -> {status}: ProblemBody: not a problem "
                    f"document: {resp.content[:80]!r}"
                )
            if status in (429, 503) and not _header(resp, "Retry-After").isdigit():
                ctx.hard.append(f"{label}: no Retry-After")
            after = row_counts()
            if after != before:
                diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                ctx.hard.append(f"{label}: a refused request changed rows {diff}")
        if op.path in SKIP_BODY_SCHEMA:
            return
        try:
            case.validate_response(resp, checks=schema_checks)
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collected, reported together
            ctx.schema.append(f"{op.method.upper()} {op.path} -> {status}: {_brief(e)}")

    return run


def _brief(e: BaseException) -> str:
    """The first line of each schemathesis failure (``FailureGroup`` holds several)."""
    subs = getattr(e, "exceptions", None) or [e]
    return "; ".join(f"{type(s).__name__}: {' '.join(str(s).split())[:200]}" for s in subs)


def _header(resp: Any, name: str) -> str:
    for k, v in resp.headers.items():
        if k.lower() == name.lower():
            return v[0] if isinstance(v, list) else v
    return ""
