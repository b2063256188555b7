"""Benchmark of the card half (spec/operations.md §Benchmarks, spec/cards.md; issue 13 targets).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_cards REDIS_URL=redis://127.0.0.1:6385/1 \\
        .venv/bin/python bench/cards.py [--records 50000] [--rate 200] [--duration 20]

On a scratch database ``<db>_bench_cards`` with the demo's synthetic card registry (3,000 cards,
acceptors in every region prefecture), the real service runs under gunicorn, driven with signed
requests:

1. **acceptances**: ``POST /api/v1/card-acceptances/batch`` (1,000 records per request, online and
   offline mixes, several submitters) → records/s (target ≥ 5,000/s);
2. **deny-list deltas**: ``GET /api/v1/deny-list/delta?since=S`` offered at ``--rate`` fetches/s
   (open loop, latency from each fetch's scheduled time) → achieved rate, p50/p99 (target p99 ≤
   20 ms at 200/s) and gunicorn's CPU per fetch;
3. **status changes**: card desk temporary losses through ``POST /api/v1/cards/{card_no}/status``
   → moves/s, and for each the time until a fetch of ``delta?since=`` the previous version shows
   the card (target ≤ 1 s; ``--skip-moves`` leaves this phase out);
4. **baseline**: the acceptance rows and clearing items of phase 1 inserted again with raw psycopg
   (``executemany``, one transaction per 1,000 records) into ``LIKE … INCLUDING ALL`` copies →
   records/s and the ratio HTTP / raw.

Prints its figures (with gunicorn's CPU per record and per fetch, from ``/proc``) and one final JSON
line. The machine is shared: read ratios and CPU per unit, not absolute rates. The in-process
profile of the batch path is ``bench/profile_cards.py``; ``bench/cards_answers.py`` checks that two
code trees answer the same records identically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.close import db_url, drop, manage, recreate  # noqa: E402
from bench.ingest import cpu_seconds, percentile  # noqa: E402


def setup(url: str, seed: int):  # noqa: ANN201
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from demo import cards_day

    day = cards_day.CardDay()
    cards_day.load_registry(day, n_cards=3000, seed=seed)
    return day


def plan(day, n: int, seed: int, tag: str = "BENCH") -> dict[str, list[dict]]:  # noqa: ANN001
    import datetime as dt
    import random

    from cards.services.denylist import fresh_latest
    from demo import cards_day

    latest = fresh_latest()
    now = dt.datetime.now(cards_day.SH).replace(microsecond=0)
    rng = random.Random(seed)
    return cards_day._taps(
        rng, day, n, now - dt.timedelta(hours=3), now, tag, (latest.version, latest.issued_at)
    )


def raw_baseline(url: str, rows: int) -> float:
    """Insert the acceptances and items written by phase 1 again with raw psycopg into copies."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for t in ("cards_acceptance", "clearing_clearingitem"):
            conn.execute(f"DROP TABLE IF EXISTS bench_{t}")
            conn.execute(f"CREATE TABLE bench_{t} (LIKE {t} INCLUDING ALL)")
        acc = conn.execute("SELECT * FROM cards_acceptance ORDER BY id").fetchall()
        acc_cols = [d.name for d in conn.execute("SELECT * FROM cards_acceptance LIMIT 0").description]
        items = conn.execute(
            "SELECT * FROM clearing_clearingitem WHERE scheme = 'card' ORDER BY id"
        ).fetchall()
        item_cols = [d.name for d in conn.execute("SELECT * FROM clearing_clearingitem LIMIT 0").description]
    t = time.perf_counter()
    with psycopg.connect(url) as conn:
        for i in range(0, len(acc), 1000):
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO bench_cards_acceptance ({', '.join(acc_cols)}) "
                    f"VALUES ({', '.join(['%s'] * len(acc_cols))})",
                    acc[i : i + 1000],
                )
                cur.executemany(
                    f"INSERT INTO bench_clearing_clearingitem ({', '.join(item_cols)}) "
                    f"VALUES ({', '.join(['%s'] * len(item_cols))})",
                    items[i : i + 1000],
                )
    return rows / (time.perf_counter() - t)


def main() -> None:  # noqa: PLR0915 - a script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=200.0, help="offered delta fetches/s")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--moves", type=int, default=100, help="status changes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--submitters", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--skip-moves", action="store_true", help="leave out phase 3 (status changes and their visibility)"
    )
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/cards.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_cards"
    url = db_url(base, name)
    print(
        f"cards benchmark: database {name} (scratch), {args.workers} gunicorn workers × "
        f"{args.threads} threads, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    day = setup(url, args.seed)
    work = plan(day, args.records, args.seed)
    units = [(code, recs[i : i + 1000]) for code, recs in work.items() for i in range(0, len(recs), 1000)]
    from demo.http import Api, Service

    env = {"DATABASE_URL": url, "THROTTLE_RATE": "100000000/min"}
    results: dict = {"load_average": round(os.getloadavg()[0], 1)}
    staff_token = make_desk(url)
    with Service(
        workers=args.workers, threads=args.threads, env=env, log_dir=Path("/tmp/bench-cards-logs")
    ) as svc:
        api = Api(svc.base_url)
        sessions = {p.pid for p in svc.procs}
        statuses: list[int] = []
        lock = threading.Lock()

        def run_batch(unit) -> None:  # noqa: ANN001
            code, recs = unit
            resp = api.signed(day.clients[code], "POST", "/api/v1/card-acceptances/batch", {"items": recs})
            resp.raise_for_status()
            with lock:
                statuses.extend(r["status"] for r in resp.json()["results"])

        t, c0 = time.perf_counter(), cpu_seconds(sessions)
        with ThreadPoolExecutor(args.submitters) as pool:
            list(pool.map(run_batch, units))
        secs, c1 = time.perf_counter() - t, cpu_seconds(sessions)
        answered = len(statuses)
        results["acceptances"] = {
            "records": answered,
            "accepted": statuses.count(201),
            "seconds": round(secs, 2),
            "per_s": round(answered / secs, 1),
            "gunicorn_cpu_ms_per_record": round((c1 - c0) * 1000 / max(1, answered), 3),
        }
        print(
            f"  acceptances: {answered:,} records ({statuses.count(201):,} accepted) "
            f"in {len(units)} batches, "
            f"{secs:.1f} s → {answered / secs:,.0f}/s"
        )
        # 2. delta fetches, open loop
        code = next(iter(day.clients))
        client = day.clients[code]
        since = api.signed(client, "GET", "/api/v1/deny-list").json()["document"]["version"]
        n = int(args.rate * args.duration)
        lat: list[float] = []
        start = time.perf_counter() + 0.2

        def fetch(i: int) -> None:
            due = start + i / args.rate
            time.sleep(max(0.0, due - time.perf_counter()))
            r = api.signed(client, "GET", f"/api/v1/deny-list/delta?since={max(1, since - (i % 5))}")
            r.raise_for_status()
            lat.append(time.perf_counter() - due)

        c0 = cpu_seconds(sessions)
        t = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(fetch, range(n)))
        secs, c1 = time.perf_counter() - t, cpu_seconds(sessions)
        results["delta"] = {
            "fetches": n,
            "offered_per_s": args.rate,
            "achieved_per_s": round(n / secs, 1),
            "p50_ms": round(percentile(lat, 0.5) * 1000, 2),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
            "gunicorn_cpu_ms_per_fetch": round((c1 - c0) * 1000 / n, 3),
        }
        print(
            f"  deny-list deltas: {n} fetches offered at {args.rate:.0f}/s, achieved {n / secs:.0f}/s → "
            f"p50 {results['delta']['p50_ms']} ms, "
            f"p99 {results['delta']['p99_ms']} ms; gunicorn "
            f"{results['delta']['gunicorn_cpu_ms_per_fetch']} ms CPU per fetch"
        )
        if args.skip_moves:
            args.moves = 0
        # 3. status changes and their visibility in the next delta
        visible: list[float] = []
        t = time.perf_counter()
        for card in day.cards[: args.moves]:
            before = api.signed(client, "GET", "/api/v1/deny-list").json()["document"]["version"]
            r = api.bearer(
                staff_token,
                "POST",
                f"/api/v1/cards/{card['card_no']}/status",
                {"to": "temp_lost", "reference": f"bench-{card['card_no']}", "certno": card["certno"]},
            )
            committed = time.perf_counter()
            r.raise_for_status()
            while True:
                doc = api.signed(client, "GET", f"/api/v1/deny-list/delta?since={before}").json()["document"]
                if doc["entries"]:
                    visible.append(time.perf_counter() - committed)
                    break
        moves_s = time.perf_counter() - t
        results["status_changes"] = {} if not visible else {
            "moves": args.moves,
            "per_s": round(args.moves / moves_s, 1),
            "visible_max_ms": round(max(visible) * 1000, 1),
            "visible_p50_ms": round(percentile(visible, 0.5) * 1000, 1),
        }
        if visible:
            print(
                f"  status changes: {args.moves} in {moves_s:.1f} s (each followed by its delta fetch); "
                f"in the next delta after ≤ {results['status_changes']['visible_max_ms']} ms"
            )
    raw = raw_baseline(url, answered)
    results["baseline_raw_per_s"] = round(raw, 1)
    results["ratio_http_to_raw"] = round(results["acceptances"]["per_s"] / raw, 3)
    print(
        f"  baseline: raw psycopg inserts of the same rows {raw:,.0f}/s; "
        f"HTTP/raw {results['ratio_http_to_raw']}"
    )
    if not args.keep:
        drop(base, name)
    print(json.dumps({"bench": "cards", **results}))


def make_desk(url: str) -> str:
    """A card desk's bearer token (Shanghai)."""
    from accounts.services import staff_create, staff_token_issue
    from core.principals import Principal

    staff_create(
        username="bench-desk",
        password="Bench-desk-pass-01",
        admdvs="310000",
        role="card_desk",
        principal=Principal(role="clearing_staff", actor="bench"),
    )
    token, _ = staff_token_issue(username="bench-desk", password="Bench-desk-pass-01")
    return token


if __name__ == "__main__":
    main()
