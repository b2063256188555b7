"""PgBouncer in transaction pooling mode (issue 15 item 2, core.pooling): the code keeps no session
state on the server. A source audit for the forbidden forms, and a runtime check that every
server-side cursor the exports, proofs and verifiers open lives inside a transaction."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "bench", "migrations", "node_modules", ".git", "var"}
FORBIDDEN = {
    "session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\("),
    "SET statement": re.compile(r"""execute\(\s*f?["']\s*(SET|RESET)\s""", re.IGNORECASE),
    "named prepared statement": re.compile(r"prepare\s*=\s*True"),
    "session cursor": re.compile(r"WITH\s+HOLD", re.IGNORECASE),
    "LISTEN/NOTIFY": re.compile(r"""["']\s*(LISTEN|UNLISTEN)\s""", re.IGNORECASE),
    "temporary table": re.compile(r"CREATE\s+(TEMP|TEMPORARY)\s+TABLE", re.IGNORECASE),
}
TRANSACTIONS = {"cursor_transaction", "atomic"}


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts)]


def test_no_session_state_in_the_code():
    found = [
        f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {what}"
        for path in _sources()
        for text in [path.read_text()]
        for what, rx in FORBIDDEN.items()
        for m in rx.finditer(text)
        if path.relative_to(ROOT).as_posix() != "core/pooling.py"  # it names the rules
    ]
    assert found == []


def _iterators_outside_transactions(tree: ast.AST) -> list[int]:
    bad: list[int] = []

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call):
                    name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
                    inside = inside or name in TRANSACTIONS
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "iterator" and not inside:
            bad.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return bad


def test_every_queryset_iterator_runs_inside_a_transaction():
    """``QuerySet.iterator()`` outside a transaction declares a ``WITH HOLD`` cursor, which lives
    in the server session: under transaction pooling the next fetch may reach another server."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in _sources()
        if (lines := _iterators_outside_transactions(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_audit_finds_an_iterator_outside_a_transaction():
    tree = ast.parse(
        "def f(qs):\n"
        "    for r in qs.iterator():\n        pass\n"
        "    with cursor_transaction():\n        list(qs.iterator())\n"
    )
    assert _iterators_outside_transactions(tree) == [2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # autocommit between statements, as in production
def test_server_side_cursors_open_inside_transactions_at_run_time():
    """Every query run by a server-side (named) cursor during the audit verification, the key usage
    count and a streamed leaf pass runs with the connection inside a transaction."""
    import psycopg

    from accounts.services.keys import key_usage
    from clearing.services.cycles import open_cycle_date
    from clearing.services.figures import leaf_hashes
    from core.audit import audit_log, audit_seal, audit_verify
    from tests.clearing.test_figures_fast import _load

    named: list[bool] = []

    def guard(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if isinstance(context["cursor"].cursor, psycopg.ServerCursor):
            named.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    _load(open_cycle_date(), 30, seed=1)
    audit_log(actor="t", role="system", action="x", object_type="y", object_id="1")
    audit_seal()
    assert not connection.in_atomic_block
    with connection.execute_wrapper(guard):
        assert audit_verify().ok
        key_usage()
        assert len(list(leaf_hashes(open_cycle_date()))) == 30
    assert named and all(named)
