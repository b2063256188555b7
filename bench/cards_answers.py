"""The card acceptance answers of a code tree, to compare two trees (docs/performance.md §Cards:
the set-based rewrite answers byte for byte as the record-at-a-time code did).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_x .venv/bin/python bench/cards_answers.py \
        CODE_ROOT OUT.jsonl      # e.g. a `git archive` of an older commit, then this tree; cmp the two

With a fixed clock: a seeded registry (800 cards) and three days of hourly list versions with two
desk moves each (temporary and formal losses, lapses, cancellations, refused moves), then about
5,000 records through ``acceptances_record`` in batches of 700 — the demo's taps, some offline
with an older list, a list from the future, another ``card_sn``, an unknown card, a wrong amount,
too old, bad format, twins in a batch (same and other content), resends. Writes one answer per line
(problem texts left out: they are translated), on the scratch database ``<db>_compare``.
"""

import datetime as dt
import json
import os
import random
import sys
from types import SimpleNamespace

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
os.chdir(root)
base = os.environ["DATABASE_URL"]
from bench.close import db_url, manage, recreate  # noqa: E402

name = base.rsplit("/", 1)[1] + "_compare"
url = db_url(base, name)
recreate(base, name)
manage(url, "migrate", "--no-input")
os.environ["DATABASE_URL"] = url
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django  # noqa: E402

SH = dt.timezone(dt.timedelta(hours=8))
clock = [dt.datetime(2026, 11, 24, 9, 0, tzinfo=SH)]
import django.utils.timezone as tz  # noqa: E402

tz.now = lambda: clock[0]
django.setup()
from django.conf import settings  # noqa: E402

settings.CARD_ACPT_SEQ_DIGITS = 6
from cards.apis.acceptances import result_body  # noqa: E402
from cards.models import Acceptor  # noqa: E402
from cards.services.acceptances import acceptances_record  # noqa: E402
from cards.services.denylist import latest_version  # noqa: E402
from cards.services.moves import card_status_request  # noqa: E402
from cards.services.tick import deny_list_tick  # noqa: E402
from demo import cards_day  # noqa: E402

day = cards_day.CardDay()
cards_day.load_registry(day, n_cards=800, seed=5)
from cards.models import CardBenefit  # noqa: E402

if not CardBenefit.objects.exists():  # the older demo did not load the example rules
    from pathlib import Path

    from cards.services.reference import benefits_import
    from core.imports import rows_from_csv_bytes
    from core.principals import Principal

    benefits_import(
        rows=rows_from_csv_bytes(Path(root, "data/examples/card_benefits.csv").read_bytes()),
        province=None,
        principal=Principal(role="clearing_staff", actor="cmp"),
    )
rng = random.Random(77)
desk = SimpleNamespace(role="card_desk", actor="cmp-desk", admdvs="310000", person=None)
versions = []
for h in range(0, 72):
    clock[0] = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH) + dt.timedelta(hours=h)
    deny_list_tick(now=clock[0])
    for card in rng.sample(day.cards, 2):
        clock[0] += dt.timedelta(minutes=rng.randint(1, 50))
        to = rng.choice(["temp_lost", "temp_lost", "lost", "active", "cancelled"])
        try:
            card_status_request(
                principal=desk,
                card_no=card["card_no"],
                to=to,
                reason="cmp",
                reference=f"cmp-{h}-{card['card_no']}-{to}",
                certno=card["certno"],
                card_sn=None,
            )
        except Exception:  # noqa: BLE001, S110 - refused moves (invalid_transition…) are part of the mix
            pass
    versions.append((latest_version().version, latest_version().issued_at))
now = dt.datetime(2026, 11, 27, 11, 0, tzinfo=SH)
clock[0] = now
deny_list_tick(now=now)
taps = cards_day._taps(rng, day, 4000, now - dt.timedelta(days=3), now, "CMP", versions[-30])
records = []
for code, recs in taps.items():
    for r in recs:
        roll = rng.random()
        if roll < 0.05:
            v, at = rng.choice(versions)
            r = dict(r, mode="offline", list_version=v, pay_src="epurse" if r["amt"] != "0.00" else "none")
        elif roll < 0.07:
            r = dict(r, list_version=10**6, mode="offline")
        elif roll < 0.08:
            r = dict(r, card_sn="0" * 32)
        elif roll < 0.09:
            r = dict(r, card_no="Z99999999")
        elif roll < 0.10:
            r = dict(r, amt="99.00")
        elif roll < 0.11:
            r = dict(r, used_at=(now - dt.timedelta(days=9)).isoformat())
        elif roll < 0.12:
            r = dict(r, list_amt="1.5")
        records.append((code, r))
        if rng.random() < 0.03:
            records.append((code, dict(r)))  # a twin
        if rng.random() < 0.02:
            records.append((code, dict(r, list_amt="7.00", amt="7.00")))  # a twin with other content
by = {}
for code, r in records:
    by.setdefault(code, []).append(r)
answers = []
for code, recs in sorted(by.items()):
    acc = Acceptor.objects.get(acceptor_code=code)
    for i in range(0, len(recs), 700):
        clock[0] += dt.timedelta(seconds=1)
        res = acceptances_record(acceptor=acc, records=recs[i : i + 700], now=clock[0])
        answers.extend(result_body(x) for x in res)
        if i == 0:  # resend the first part: duplicates
            res = acceptances_record(acceptor=acc, records=recs[:50], now=clock[0])
            answers.extend(result_body(x) for x in res)
with open(out, "w") as f:
    for a in answers:
        p = a.get("problem")
        if p:  # texts are translated on main since; compare codes, fields and figures
            p.pop("detail", None), p.pop("title", None)
            for e in p.get("errors", []):
                e.pop("message", None)
        f.write(json.dumps(a, sort_keys=True) + "\n")
print(len(answers), "answers;", sum(1 for a in answers if a["status"] == 201), "accepted")
