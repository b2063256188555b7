"""No personal data in clear text in a database dump or in the logs (issue 7 §4;
spec/security.md §Personal data at rest).

- The example world (``data/examples`` loaded, settlements, a close, a dispute, lookups) committed
  to the test database, ``pg_dump``'d, and the captured log records of all of it searched.
- ``manage.py demo --settlements 40`` (when the command exists) on a throw-away PostgreSQL with the
  examples loaded first: the dump, the service's and the demo's logs and its output files searched for
  every person's certno (18-digit, lower-case x, 15-digit legacy), name and card number.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from tests.reliability.bills import PERSONS
from tests.reliability.harness import ROOT, LiveService, ThrowawayPostgres
from tests.reliability.pii import certno_variants, find_personal_data

EXAMPLE_PII = [(c, n, card) for c, n, card, _sn in PERSONS.values()]


def pg_dump(dsn_args: list[str]) -> str:
    out = subprocess.run(["pg_dump", "--no-owner", *dsn_args], check=True, capture_output=True, timeout=120)
    return out.stdout.decode("utf-8", "replace")


def test_variants_of_a_certno():
    assert certno_variants("34010219900215321X") == {
        "34010219900215321X",
        "34010219900215321x",
        "340102900215321",
    }
    assert find_personal_data("x 340102900215321 y", [("34010219900215321X", "示例丙", "A1")]) == [
        "certno 3401…21"
    ]
    assert find_personal_data("…34010219900215321x…", [("34010219900215321X", "", "")]) != []
    assert (
        find_personal_data("3401**********321X 示*丙", [("34010219900215321X", "示例丙", "A34000003")]) == []
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pg_dump_and_logs_of_the_example_world_hold_no_personal_data(world, caplog):
    caplog.set_level(logging.DEBUG)
    # More traffic that touches persons: lookups, a card credential, a cardholder's own pages.
    owner = world.callers["inst:H31010400001"]
    for certno, *_ in EXAMPLE_PII:
        owner.post(
            "/api/v1/persons/lookup", {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "card_sn": None}
        )
    owner.post(
        "/api/v1/persons/lookup",
        {"mdtrt_cert_type": "02", "mdtrt_cert_no": "34010219900215321x", "card_sn": None},
    )
    certno, _n, card_no, card_sn = PERSONS["34010000000000000001"]
    owner.post(
        "/api/v1/persons/lookup", {"mdtrt_cert_type": "03", "mdtrt_cert_no": card_no, "card_sn": card_sn}
    )
    owner.post("/api/v1/settlements", {"mdtrt_cert_type": "02", "mdtrt_cert_no": certno})  # refused: logged?
    for role in world.roles:
        if role.startswith("card:"):
            world.call(role, "GET", "/api/v1/me")
            world.call(role, "GET", "/api/v1/me/settlements")
    s = connection.settings_dict
    dump = pg_dump(
        [
            "-h",
            s.get("HOST") or "127.0.0.1",
            "-p",
            str(s.get("PORT") or 5432),
            "-U",
            s.get("USER") or "postgres",
            s["NAME"],
        ]
    )
    assert "settlement_settlement" in dump and len(dump) > 10_000
    assert find_personal_data(dump, EXAMPLE_PII) == []
    logs = "\n".join(r.getMessage() + " " + repr(r.args) for r in caplog.records) + caplog.text
    assert find_personal_data(logs, EXAMPLE_PII) == []


_PII_SCRIPT = """
import json
from accounts.models import Person
from cards.models import Card
from core.crypto import decrypt
rows = [[decrypt(p.certno_enc), decrypt(p.psn_name_enc), decrypt(p.card_no_enc) if p.card_no_enc else ""]
        for p in Person.objects.all()]
# registry cards too (card-only holders; the demo's card day moves cards through /api/v1/cards/<card_no>):
# certno and card number (their synthetic names "演示<n>" are prefixes of one another, not searched)
rows += [[decrypt(c.certno_enc), "", decrypt(c.card_no_enc)] for c in Card.objects.all()]
print(json.dumps(rows, ensure_ascii=False))
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_pg_dump_and_logs_after_examples_and_demo_hold_no_personal_data():
    pg = ThrowawayPostgres(dbname="ks_g_pii")
    svc = None
    out_dir = Path(tempfile.mkdtemp(prefix="ks_g_demo_"))
    try:
        pg.start()
        pg.create_db()
        svc = LiveService({"DATABASE_URL": pg.url, "LOG_LEVEL": "DEBUG"})
        svc.prepare()
        has_demo = "demo" in svc.manage("help", "--commands")
        demo_out = ""
        if has_demo:
            demo_out = svc.manage(
                "demo",
                "--settlements",
                "40",
                "--out",
                str(out_dir),
                "--no-progress",
                "--workers",
                "1",
                "--threads",
                "2",
                timeout=240,
            )
        assert not has_demo or "Done in" in demo_out, demo_out[-2000:]
        persons = [
            tuple(p)
            for p in json.loads(svc.manage("shell", "-c", _PII_SCRIPT, log=False).strip().splitlines()[-1])
        ]
        assert len(persons) >= len(PERSONS) + (40 if has_demo else 0)
        dump = pg_dump(["-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", pg.dbname])
        assert find_personal_data(dump, persons) == []
        # The "Try it" block ends the demo with one cardholder's and one card-only holder's login on
        # purpose (issue 14 §5), on standard output only: those lines are the exception, nothing
        # else may name anyone.
        login = [ln for ln in demo_out.splitlines()
                 if ln.strip().startswith(("Cardholder pages:", "Card-only holder:"))]
        assert len(login) == (2 if has_demo else 0), demo_out[-2000:]
        demo_out = "\n".join(ln for ln in demo_out.splitlines() if ln not in login)
        # the service log also holds the commands' output
        service_log = "\n".join(ln for ln in svc.log_text().splitlines() if ln not in login)
        texts = {"demo output": demo_out, "service log": service_log}
        texts |= {
            str(p.relative_to(out_dir)): p.read_text(errors="replace")
            for p in out_dir.rglob("*")
            if p.is_file() and p.suffix in ("", ".log", ".txt", ".json", ".csv")
        }
        found = {name: find_personal_data(text, persons)[:5] for name, text in texts.items()}
        assert {k: v for k, v in found.items() if v} == {}
    finally:
        if svc is not None:
            svc.stop()
        pg.cleanup()
        subprocess.run(["rm", "-rf", str(out_dir)], check=False)
    _ = ROOT
