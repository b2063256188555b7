"""``manage.py demo [--settlements 20000] [--out out/]``: the main job (spec/operations.md §The main job).

1. a seeded synthetic network (``demo.network``) loaded through ``import_reference``;
2. the real service under gunicorn on 127.0.0.1 (and a Celery worker when ``CELERY_BROKER_URL`` is
   set), one API client per institution;
3. one business day of settlements through the HTTP API with signed requests — batches, some single
   requests, reversals and partial re-settlements — with a progress bar, then bad requests that must
   be refused (each checked);
4. the early close of the day's cycle; the report (head, net positions, gross / net / efficiency,
   alerts); the signed head and statements, the public key and a PNG chart in ``out/``;
5. independent verification of a statement, the head and a cardholder's receipt.

Exits non-zero when anything the spec promises does not hold (a refusal not refused, Σ net ≠ 0.00, a
verification failing).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.audit import audit_seal
from demo import cards_day, his, job, report, tryit
from demo.day import plan_day, prefunds_rows
from demo.http import Api, Service
from demo.network import build_network
from demo.refusals import run_checks
from demo.submit import reverse_and_resettle, submit_day


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class Command(BaseCommand):
    help = "Run the main job: synthetic network, one day through the signed HTTP API, close, report, verify."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("--settlements", type=int, default=20000, help="settlements in the day's sample")
        parser.add_argument("--out", default="out", help="directory for statements, keys, chart, receipt")
        parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic network")
        parser.add_argument(
            "--persons", type=int, default=0, help="insured persons (default 0.8 × settlements)"
        )
        parser.add_argument("--batch-size", type=int, default=500, help="items per batch request (≤ 1000)")
        parser.add_argument("--threads", type=int, default=2, help="concurrent HTTP submitters")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--card-taps", type=int, default=None,
                            help="card taps and entries of the card day (spec/cards.md; default: as many as "
                                 "--settlements; 0: none)")

    def say(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **o):  # noqa: ANN002, ANN003, ANN201
        t0 = time.monotonic()
        # The report prints the close's figures and alerts; the close's own log lines would repeat them.
        logging.getLogger("kuasheng").setLevel(logging.ERROR)
        n = o["settlements"]
        if not 10 <= n <= 300_000:
            raise CommandError("--settlements must be between 10 and 300000")
        celery = bool(settings.CELERY_BROKER_URL)
        db = connection.vendor
        now = dt.datetime.now(dt.UTC)
        out = job.run_directory(Path(o["out"]).resolve(), started=now, database=db, seed=o["seed"],
                                settlements=n)
        self.say(
            f"Kuasheng main job: {n} settlements, database {db}, "
            f"Celery {'worker (' + settings.CELERY_BROKER_URL + ')' if celery else 'eager (in-process)'}"
            f"\nThis run writes its files under {out}/ ({Path(o['out']).resolve() / 'latest'} points there)"
        )
        today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        net = build_network(persons=o["persons"] or max(60, int(n * 0.8)), seed=o["seed"], today=today)
        day = plan_day(net, n, runtag=_b36(int(now.timestamp())), now=now, seed=o["seed"] + 1)
        day, via_gateway = his.split(day)  # about a third goes through the NHSA gateway, as a HIS would
        with tempfile.TemporaryDirectory(prefix="kuasheng-network-") as tmp:
            counts = job.import_network(net, prefunds_rows(net, day), Path(tmp))
        self.say(
            f"\n[1] Network: {len(net.institutions)} institutions in 32 provinces, "
            f"{len(net.persons)} persons "
            f"(seed {o['seed']}), loaded with import_reference:"
        )
        self.say("\n".join("    " + line for line in counts.strip().splitlines()))
        clients = job.create_clients([i.code for i in net.institutions])
        t_loaded = time.monotonic()
        self.say(f"    {len(clients)} institution clients created ({t_loaded - t0:.1f} s)")

        from clearing.models import ClearingItem, Cycle

        unclosed = ClearingItem.objects.filter(scheme="medical").exclude(cycle__status=Cycle.Status.CLOSED)
        before = unclosed.count()
        with Service(workers=o["workers"], threads=2, celery=celery, log_dir=out / "logs") as svc:
            api = Api(svc.base_url)
            self.say(
                f"\n[2] Service: gunicorn {o['workers']} workers at {svc.base_url}"
                + (", Celery worker started" if celery else "")
            )
            outcomes, t_sub = self._submit(api, clients, day, o)
            gateway_run = self._gateway(svc.base_url, via_gateway, o)
            reversals, resettled = reverse_and_resettle(api, clients, day, outcomes, n)
            self._report_submission(day, outcomes, reversals, resettled, t_sub)
            checks = run_checks(api, clients, net, day, outcomes, reversals, n)
            self._report_checks(checks)

            ours = [o_.setlinfo for o_ in [*outcomes.values(), *reversals, *resettled] if o_.status == 201]
            ours += job.settled_rows(gateway_run.settled)  # gateway settlements: ordinary settlements
            target = max(dt.date.fromisoformat(s["clr_date"]) for s in ours)
            dates = job.dates_to_close(target)
            t_close = time.monotonic()
            if celery:
                for line in job.close_over_http(api, dates):
                    self.say("    " + line)
            else:
                job.close_in_process(dates)
            t_closed = time.monotonic()
            closed = [report.load_closed(d) for d in dates]
            main = max(closed, key=lambda c: c.head["tree_size"])
            paths = report.write_documents(main, out)
            receipt_path, receipt_setl = job.receipt(api, net, day, outcomes, out)
            taps = o["settlements"] if o["card_taps"] is None else o["card_taps"]
            card_day = cards_day.run(api, taps=taps, seed=o["seed"], n_cards=max(200, min(3000, taps // 5))) \
                if taps else None
        names = net.names()
        self.say(f"\n[4] Close of {', '.join(str(d) for d in dates)} ({t_closed - t_close:.1f} s)\n")
        for c in closed:
            self.say(report.render(c, names) + "\n")
        if card_day is not None:
            self.say("[4b] The card day (spec/cards.md), closed in its own scheme\n")
            self.say(cards_day.render(card_day, main.head, main.clr_date) + "\n")
            card_paths = cards_day.write_documents(card_day, out)
            self.say(f"    card heads and statements (+.sig): {len(card_paths)} files in {out / 'cards'}\n")
        tree = sum(c.head["tree_size"] for c in closed)
        problems = (
            [f"tree_size {tree} ≠ {before} items not yet closed before the run + {len(ours)} accepted now"]
            if tree != before + len(ours)
            else []
        )
        for c in closed:
            cc = report.cross_checks(c)
            if cc["sum_net"] != "0.00" or not cc["gross_matches"]:
                problems.append(
                    f"cycle {c.clr_date}: Σ net {cc['sum_net']}, gross matches {cc['gross_matches']}"
                )
        chart = report.chart(main, names, out / f"net-positions-{main.clr_date}.png")
        biggest = max(main.statements, key=lambda a: main.statements[a][0]["item_cnt"])
        statement = out / f"statement-{main.clr_date}-{biggest}.json"
        self.say(
            f"[5] Written to {out}: {paths['head'].name} (+.sig), {len(main.statements)} statements "
            f"(statement-{main.clr_date}-ADMDVS.json + .sig), {paths['key'].name}, {chart.name}, "
            f"{receipt_path.name}"
        )
        self.say("    Independent verification:")
        audit_seal()  # seal everything written so far, so verify_audit checks all of it
        results = job.verifications(paths, statement, receipt_path)
        for label, ok, text in results:
            self.say(f"    {'OK ' if ok else 'BAD'} {label}: {text}")
            if not ok:
                problems.append(f"verification failed: {label}: {text}")
        problems += [
            f"not refused as the spec says: {c.label}: expected {c.expected}, got {c.got}"
            for c in checks
            if not c.ok
        ]
        total = time.monotonic() - t0
        job.summary_json(
            out / "summary.json",
            {
                "settlements": n,
                "database": db,
                "celery": celery,
                "clr_dates": [str(d) for d in dates],
                "accepted": len(ours),
                "tree_size": tree,
                "head": main.head,
                "cross_checks": report.cross_checks(main),
                "calibration": job.calibration(day, outcomes),
                "gateway": gateway_run.summary(),
                "refusals": [c.__dict__ for c in checks],
                "verifications": [{"check": lbl, "ok": ok} for lbl, ok, _ in results],
                "receipt_setl_id": receipt_setl,
                "seconds": {
                    "load": round(t_loaded - t0, 1),
                    "submit": round(t_sub, 1),
                    "close": round(t_closed - t_close, 1),
                    "total": round(total, 1),
                },
                "problems": problems,
            },
        )
        self.say(
            f"\nDone in {total:.1f} s (load {t_loaded - t0:.1f} s, submit {t_sub:.1f} s, "
            f"close {t_closed - t_close:.1f} s)."
        )
        if problems:
            raise CommandError("; ".join(problems))
        self._try_it(net, day, outcomes, receipt_setl, out, card_day)

    def _try_it(self, net, day, outcomes, receipt_setl: str, out: Path, card_day=None) -> None:  # noqa: ANN001
        """The logins and URLs of "Try it" (README), with a cardholder who has records."""
        person = job.receipt_person(day, outcomes, receipt_setl)
        staff = tryit.staff_logins(store=settings.BASE_DIR / ".local" / "demo-logins.json",
                                   database=f"{connection.vendor}:{connection.settings_dict['NAME']}",
                                   bureau_admdvs=person.home[:2] + "0000")
        env = "".join(f"{k}={v} " for k in tryit.SERVER_ENV if (v := os.environ.get(k)))
        password = job.cardholder_password(person.psn_no)
        card_holder = tryit.card_only_login(card_day.cards) if card_day is not None else None
        self.say("\n" + tryit.try_it_text(certno=person.certno, password=password, staff=staff, run_dir=out,
                                          env=env, card_holder=card_holder))

    def _submit(self, api: Api, clients, day, o):  # noqa: ANN001, ANN202
        from tqdm import tqdm

        self.say(
            f"\n[3] Submitting one business day: {len(day.items)} settlements "
            f"(batches of ≤ {o['batch_size']} per institution, 1 in 50 single; {o['threads']} submitters)"
        )
        t = time.monotonic()
        # On a terminal the bar redraws in place; in a log (CI, a pipe) one line every 10 s is enough.
        interval = 0.5 if sys.stderr.isatty() else 10.0
        with tqdm(total=len(day.items), unit="setl", disable=o["no_progress"], smoothing=0.1,
                  mininterval=interval) as bar:
            outcomes = submit_day(
                api, clients, day, batch_size=o["batch_size"], threads=o["threads"], progress=bar.update
            )
        return outcomes, time.monotonic() - t

    def _gateway(self, base_url: str, items, o):  # noqa: ANN001, ANN202
        from tqdm import tqdm

        self.say(f"\n[3b] Hospital bills from HIS through the NHSA gateway: {len(items)} visits")
        interval = 0.5 if sys.stderr.isatty() else 10.0
        with tqdm(total=len(items), unit="visit", disable=o["no_progress"], mininterval=interval) as bar:
            run = his.send_visits(his.create_hises(base_url, items), items, threads=o["threads"],
                                  progress=bar.update)
        for line in his.report_lines(run):
            self.say(line)
        return run

    def _report_submission(self, day, outcomes, reversals, resettled, seconds: float) -> None:  # noqa: ANN001
        from collections import Counter

        statuses = Counter(o.status for o in outcomes.values())
        codes = Counter(o.code for o in outcomes.values() if not o.accepted)
        temp = sum(
            1 for o in outcomes.values() if o.setlinfo and (o.setlinfo.get("filing") or {}).get("created_now")
        )
        intra = sum(
            1
            for o in outcomes.values()
            if o.setlinfo and o.setlinfo["insuplc_admdvs"][:2] == o.setlinfo["mdtrtarea_admvs"][:2]
        )
        self.say(
            f"    {statuses.get(201, 0)} settled ({len(day.items) / seconds:.0f}/s over HTTP), "
            f"{intra} of them within a province, {temp} emergencies with a temporary filing 22 recorded"
        )
        if codes:
            self.say(f"    refused by business rules: {dict(codes)}")
        self.say(
            f"    {sum(r.status == 201 for r in reversals)} reversed, "
            f"{sum(r.status == 201 for r in resettled)} settled again for less (partial refunds)"
        )
        cal = job.calibration(day, outcomes)
        public = {"outpatient": "144", "inpatient": "13,400"}
        for group, c in cal.items():
            self.say(
                f"    {group:<10} {c['cnt']:>6} ({c['share']}), fund paid per visit {c['fund_per_visit']:>9} "
                f"yuan (public figure ≈ {public[group]})"
            )

    def _report_checks(self, checks) -> None:  # noqa: ANN001
        ok = sum(c.ok for c in checks)
        self.say(f"    Bad requests and replays: {ok}/{len(checks)} answered as the spec says")
        for c in checks:
            self.say(
                f"      {'ok ' if c.ok else 'BAD'} {c.label:<52} → {c.got}"
                + ("" if c.ok else f" (expected {c.expected})")
            )
