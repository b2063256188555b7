"""Benchmark of settlement ingest over HTTP (spec/operations.md §Benchmarks, issue 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_f REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/ingest.py [--batch 10000] [--single 2000] [--rate 100] [--duration 30]

On a scratch database ``<db>_bench_ingest`` loaded with the main job's synthetic network, the real
service runs under gunicorn and is driven with signed requests, every settlement with 5 fee lines:

1. **batch**: ``POST /settlements/batch`` (500 items per request, several submitters) → settlements/s;
2. **single, closed loop**: ``POST /settlements`` as fast as the submitters go → settlements/s;
3. **single, open loop at 100 requests/s offered** for ``--duration`` s → p50/p99 latency measured from
   each request's scheduled send time (so queueing counts);
4. **baseline**: the rows the batch phase wrote (every table that gained rows) are inserted again with
   raw psycopg (``executemany`` in the pipeline, one transaction per 500 settlements' rows) into
   ``LIKE … INCLUDING ALL`` copies of those tables → settlements/s, and the ratio HTTP / raw.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.close import db_url, drop, manage, recreate  # noqa: E402

LINE_KINDS = ("visit", "drug", "drug", "lab", "material")


def five_lines(rng: random.Random, body: dict) -> dict:
    """The request with exactly 5 fee lines (national items, 2-place prices)."""
    from decimal import Decimal

    from demo.catalogue import BY_KIND, money

    times = [line["fee_ocur_time"] for line in body["feedetail"]]
    lines, used = [], set()
    for n, kind in enumerate(LINE_KINDS, start=1):
        item = (
            next(i for i in rng.sample(BY_KIND[kind], len(BY_KIND[kind])) if i.code not in used)
            if len(BY_KIND[kind]) > 1
            else BY_KIND[kind][0]
        )
        used.add(item.code)
        cnt = rng.randint(*item.cnt)
        pric = Decimal(item.price)
        lines.append(
            {
                "feedetl_sn": str(n),
                "med_list_codg": item.code,
                "fee_ocur_time": times[0],
                "cnt": str(cnt),
                "pric": f"{pric:.2f}",
                "det_item_fee_sumamt": money(pric * cnt),
            }
        )
    return dict(body, feedetail=lines)


def cpu_seconds(pids: set[int] | None = None, *, user: str | None = None) -> float:
    """utime + stime (s) of the processes in ``pids`` and their children's sessions, or of every
    process owned by ``user`` (e.g. the PostgreSQL backends), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            owner = Path(f"/proc/{entry}/status").read_text().split("Uid:")[1].split()[0]
        except (OSError, IndexError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        session = int(fields[3])
        if pids is not None and session not in pids:
            continue
        if user is not None:
            import pwd

            if pwd.getpwuid(int(owner)).pw_name != user:
                continue
        # utime + stime, plus cutime + cstime: the postmaster accrues its exited backends' time there.
        total += sum(int(v) for v in fields[11:15]) / tick
    return total


def per_settlement_cpu(c0: tuple[float, float], c1: tuple[float, float], n: int) -> dict[str, float]:
    """CPU ms per settlement of the gunicorn processes and of all PostgreSQL processes."""
    return {
        "gunicorn_cpu_ms": round((c1[0] - c0[0]) * 1000 / max(n, 1), 2),
        "postgres_cpu_ms": round((c1[1] - c0[1]) * 1000 / max(n, 1), 2),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def setup(url: str, total: int, seed: int):
    """Migrate, load the network through ``import_reference`` and create clients; returns
    (network, planned day, clients)."""
    import datetime as dt
    import tempfile

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from demo import job
    from demo.day import plan_day, prefunds_rows
    from demo.network import build_network

    now = dt.datetime.now(dt.UTC)
    net = build_network(persons=max(500, total // 2), seed=seed, today=now.date())
    day = plan_day(net, total, runtag=f"b{int(now.timestamp()) % 10**6:06d}", now=now, seed=seed + 1)
    rng = random.Random(seed)
    for p in day.items:
        p.body = five_lines(rng, p.body)
    with tempfile.TemporaryDirectory() as tmp:
        job.import_network(net, prefunds_rows(net, day), Path(tmp))
    clients = job.create_clients(sorted({p.institution.code for p in day.items}))
    return net, day, clients


def max_ids(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        # tables with an id, partitions left out (their rows are read through the partitioned
        # parent; counting both would insert every partitioned row twice in the baseline)
        cur.execute(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace "
            "WHERE c.table_schema = 'public' AND c.column_name = 'id' AND NOT k.relispartition "
            "ORDER BY c.table_name"
        )
        tables = [r[0] for r in cur.fetchall()]
        out = {}
        for t in tables:
            cur.execute(f'SELECT coalesce(max(id), 0) FROM "{t}"')
            out[t] = cur.fetchone()[0]
        return out


def raw_baseline(
    url: str, before: dict[str, int], after: dict[str, int], settlements: int, per_tx: int = 500
) -> dict:
    """Insert again, with raw psycopg, every row the batch phase wrote, into copies of the tables."""
    import psycopg
    from psycopg.types.string import TextLoader

    grown = {t: (before[t], after[t]) for t in after if after[t] > before.get(t, 0)}
    with psycopg.connect(url) as conn:
        for json_type in ("json", "jsonb"):  # keep JSON as the text read, so it goes back byte for byte
            conn.adapters.register_loader(json_type, TextLoader)
        cur = conn.cursor()
        data = {}
        for t, (lo, hi) in grown.items():
            cur.execute(f'DROP TABLE IF EXISTS "bench_copy_{t}"')
            cur.execute(f'CREATE TABLE "bench_copy_{t}" (LIKE "{t}" INCLUDING ALL)')
            cur.execute(f'SELECT * FROM "{t}" WHERE id > %s AND id <= %s ORDER BY id', [lo, hi])
            cols = [d.name for d in cur.description]
            data[t] = (cols, cur.fetchall())
        conn.commit()
        rows_total = sum(len(rows) for _c, rows in data.values())
        chunks = max(1, settlements // per_tx)
        t0 = time.perf_counter()
        for k in range(chunks):
            with conn.transaction():
                for t, (cols, rows) in data.items():
                    part = rows[k * len(rows) // chunks : (k + 1) * len(rows) // chunks]
                    if not part:
                        continue
                    names = ", ".join(f'"{c}"' for c in cols)
                    marks = ", ".join(["%s"] * len(cols))
                    cur.executemany(f'INSERT INTO "bench_copy_{t}" ({names}) VALUES ({marks})', part)
        seconds = time.perf_counter() - t0
        for t in grown:
            cur.execute(f'DROP TABLE "bench_copy_{t}"')
        conn.commit()
    return {
        "tables": {t: hi - lo for t, (lo, hi) in grown.items()},
        "rows": rows_total,
        "seconds": seconds,
        "settlements_per_s": settlements / seconds,
    }


def main() -> None:  # noqa: PLR0915 - a script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=10_000, help="settlements through the batch endpoint")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--single", type=int, default=2_000, help="settlements through the single endpoint")
    parser.add_argument("--rate", type=float, default=100.0, help="offered requests/s of the latency run")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--submitters", type=int, default=4, help="concurrent client threads (closed loop)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/ingest.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_ingest"
    url = db_url(base, name)
    latency_n = int(args.rate * args.duration)
    total = args.batch + args.single + latency_n
    print(
        f"ingest benchmark: database {name} (scratch), "
        f"{args.workers} gunicorn workers × {args.threads} threads, "
        "5 fee lines per settlement, Redis nonces: "
        f"{'yes' if os.environ.get('REDIS_URL') else 'no (DB cache)'}"
    )
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    t = time.perf_counter()
    net, day, clients = setup(url, total, args.seed)
    print(
        f"  network loaded: {len(net.persons):,} persons, {len(clients)} clients "
        f"({time.perf_counter() - t:.0f} s)"
    )

    from demo.http import Api, Service
    from demo.submit import BATCH, SETTLE, send

    items = day.items
    batch_items, single_items = items[: args.batch], items[args.batch : args.batch + args.single]
    latency_items = items[args.batch + args.single :]
    env = {"DATABASE_URL": url, "THROTTLE_RATE": "1000000/min"}
    results: dict = {}
    with Service(
        workers=args.workers, threads=args.threads, env=env, log_dir=Path("/tmp/bench-ingest-logs")
    ) as svc:
        api = Api(svc.base_url)
        # 1. batch
        by_inst: dict[str, list] = {}
        for p in batch_items:
            by_inst.setdefault(p.institution.code, []).append(p)
        units = [
            v[i : i + args.batch_size] for v in by_inst.values() for i in range(0, len(v), args.batch_size)
        ]
        before = max_ids(url)
        sessions = {p.pid for p in svc.procs}  # gunicorn runs in its own session (start_new_session)

        def cpu() -> tuple[float, float]:
            return cpu_seconds(sessions), cpu_seconds(user="postgres")

        statuses: list[int] = []
        lock = threading.Lock()

        def run_batch(unit: list) -> None:
            resp = send(
                api, clients[unit[0].institution.code], "POST", BATCH, {"items": [p.body for p in unit]}
            )
            with lock:
                statuses.extend(r["status"] for r in resp.json()["results"])

        t, c0 = time.perf_counter(), cpu()
        with ThreadPoolExecutor(args.submitters) as pool:
            list(pool.map(run_batch, units))
        batch_s, c1 = time.perf_counter() - t, cpu()
        after = max_ids(url)
        ok = statuses.count(201)
        results["batch"] = {
            "settlements": len(batch_items),
            "created": ok,
            "requests": len(units),
            "seconds": round(batch_s, 2),
            "per_s": round(ok / batch_s, 1),
            **per_settlement_cpu(c0, c1, ok),
        }
        print(
            f"  batch:  {ok:,} settlements in {len(units)} requests, {batch_s:.1f} s "
            f"→ {ok / batch_s:,.0f}/s; "
            f"CPU per settlement: gunicorn {results['batch']['gunicorn_cpu_ms']} ms, "
            f"PostgreSQL {results['batch']['postgres_cpu_ms']} ms"
        )

        # 2. single, closed loop
        codes: list[int] = []

        def run_single(p) -> float:
            t1 = time.perf_counter()
            resp = send(api, clients[p.institution.code], "POST", SETTLE, p.body)
            codes.append(resp.status_code)
            return time.perf_counter() - t1

        t, c0 = time.perf_counter(), cpu()
        with ThreadPoolExecutor(args.submitters * 2) as pool:
            lat = list(pool.map(run_single, single_items))
        single_s, c1 = time.perf_counter() - t, cpu()
        results["single"] = {
            "settlements": len(single_items),
            "created": codes.count(201),
            "seconds": round(single_s, 2),
            "per_s": round(codes.count(201) / single_s, 1),
            "p50_ms": round(percentile(lat, 0.5) * 1000, 1),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
            **per_settlement_cpu(c0, c1, len(lat)),
        }
        print(
            f"  single: {codes.count(201):,} settlements, {single_s:.1f} s "
            f"→ {codes.count(201) / single_s:,.0f}/s "
            f"(closed loop, {args.submitters * 2} submitters; p50 {results['single']['p50_ms']} ms, "
            f"p99 {results['single']['p99_ms']} ms; CPU per settlement: gunicorn "
            f"{results['single']['gunicorn_cpu_ms']} ms, "
            f"PostgreSQL {results['single']['postgres_cpu_ms']} ms)"
        )

        # 3. single, open loop at the offered rate
        codes.clear()
        start = time.perf_counter() + 0.5

        def scheduled(k_p) -> float:
            k, p = k_p
            at = start + k / args.rate
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            resp = send(api, clients[p.institution.code], "POST", SETTLE, p.body)
            codes.append(resp.status_code)
            return time.perf_counter() - at

        with ThreadPoolExecutor(64) as pool:
            lat = list(pool.map(scheduled, enumerate(latency_items)))
        elapsed = time.perf_counter() - start
        results["latency"] = {
            "offered_per_s": args.rate,
            "requests": len(latency_items),
            "created": codes.count(201),
            "achieved_per_s": round(len(latency_items) / elapsed, 1),
            "p50_ms": round(percentile(lat, 0.5) * 1000, 1),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1),
            "mean_ms": round(statistics.mean(lat) * 1000, 1),
        }
        r = results["latency"]
        print(
            f"  single at {args.rate:.0f} req/s offered for {args.duration:.0f} s: {r['created']:,} created, "
            f"achieved {r['achieved_per_s']}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms"
        )

    # 4. raw psycopg baseline over the batch phase's rows
    raw = raw_baseline(url, before, after, len(batch_items))
    results["raw"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in raw.items()}
    print(
        f"  raw psycopg: the batch phase's {raw['rows']:,} rows in {len(raw['tables'])} tables "
        f"({', '.join(f'{k} {v:,}' for k, v in raw['tables'].items())}) "
        f"inserted again in {raw['seconds']:.1f} s "
        f"→ {raw['settlements_per_s']:,.0f} settlements/s"
    )
    results["ratio_batch_to_raw"] = round(results["batch"]["per_s"] / raw["settlements_per_s"], 3)
    results["ratio_single_to_raw"] = round(results["single"]["per_s"] / raw["settlements_per_s"], 3)
    print(
        f"  ratio HTTP / raw psycopg: batch {results['ratio_batch_to_raw']:.2f}, "
        f"single {results['ratio_single_to_raw']:.2f}"
    )
    print(json.dumps(results))
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
