"""Benchmark of the NHSA gateway (spec/operations.md §Benchmarks, issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_gateway REDIS_URL=redis://127.0.0.1:6384/1 \\
        .venv/bin/python bench/gateway.py [--batch 2000] [--visits 400] [--rate 100] [--duration 30]

On a scratch database ``<db>_bench_gateway`` loaded with the main job's synthetic network, the real
service runs under gunicorn; hospital bills (5 fee lines each) are sent

1. **batch**: through ``POST /api/v1/settlements/batch`` (500 per request) → settlements/s, the baseline;
2. **full chain, closed loop**: through the gateway as a HIS does (``demo/his.py``: 1101 → 2201 →
   2204 → 2206 → 2207, inpatient 1101 → 2401 → 2301 → 2402 → 2303 → 2304) → settled visits/s and the
   ratio to (1) (target ≥ 0.25);
3. **open loop at ``--rate`` calls/s offered** for ``--duration`` s: chains started at rate ÷ calls per
   chain, each call timed from its send → p50/p99 per ``infno`` (target p99 ≤ 100 ms).

Prints its figures and one final JSON line. The load of the machine (1-minute load average, cores)
is printed with them: on a shared machine the ratios are the comparable figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.close import db_url, manage, recreate  # noqa: E402
from bench.ingest import five_lines  # noqa: E402


def setup(url: str, total: int, seed: int):  # noqa: ANN201
    """Migrate-loaded database → (hospital bills of a planned day, REST clients, HIS per institution)."""
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
    day = plan_day(
        net, int(total * 1.4), runtag=f"g{int(now.timestamp()) % 10**6:06d}", now=now, seed=seed + 1
    )
    rng = random.Random(seed)
    items = [p for p in day.items if p.body["med_type"] != "41"][:total]
    for p in items:
        p.body = five_lines(rng, p.body)
    with tempfile.TemporaryDirectory() as tmp:
        job.import_network(net, prefunds_rows(net, day), Path(tmp))
    clients = job.create_clients(sorted({p.institution.code for p in items}))
    return items, clients


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else 0.0


def main() -> None:  # noqa: PLR0915 - a script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2000, help="settlements through the batch endpoint")
    parser.add_argument("--visits", type=int, default=400, help="visits through the gateway, closed loop")
    parser.add_argument("--rate", type=float, default=100.0, help="offered gateway calls/s (open loop)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--submitters", type=int, default=4, help="concurrent client threads (closed loop)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/gateway.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_gateway"
    url = db_url(base, name)
    calls_per_chain = 5.1  # ~9 % inpatient chains of 6 calls
    open_n = int(args.rate / calls_per_chain * args.duration)
    total = args.batch + args.visits + open_n
    load0 = os.getloadavg()[0]
    print(
        f"gateway benchmark: database {name} (scratch), {args.workers} gunicorn workers × {args.threads} "
        f"threads, 5 fee lines per bill, load average {load0:.1f} on {os.cpu_count()} cores"
    )
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    t = time.perf_counter()
    items, clients = setup(url, total, args.seed)
    print(f"  network loaded, {len(items):,} hospital bills planned ({time.perf_counter() - t:.0f} s)")

    from demo import his
    from demo.http import Api, Service
    from demo.submit import BATCH, send

    batch_items = items[: args.batch]
    chain_items = items[args.batch : args.batch + args.visits]
    open_items = items[args.batch + args.visits :]
    env = {"DATABASE_URL": url, "THROTTLE_RATE": "1000000/min", "GATEWAY_THROTTLE_PER_MIN": "1000000"}
    out: dict = {"load_average": round(load0, 1), "cores": os.cpu_count()}
    with Service(
        workers=args.workers, threads=args.threads, env=env, log_dir=Path("/tmp/bench-gateway-logs")
    ) as svc:
        api = Api(svc.base_url)
        by_inst: dict[str, list] = {}
        for p in batch_items:
            by_inst.setdefault(p.institution.code, []).append(p)
        units = [v[i : i + 500] for v in by_inst.values() for i in range(0, len(v), 500)]
        created: list[int] = []
        lock = threading.Lock()

        def run_batch(unit: list) -> None:
            resp = send(
                api, clients[unit[0].institution.code], "POST", BATCH, {"items": [p.body for p in unit]}
            )
            with lock:
                created.extend(1 for r in resp.json()["results"] if r["status"] == 201)

        t = time.perf_counter()
        with ThreadPoolExecutor(args.submitters) as pool:
            list(pool.map(run_batch, units))
        batch_s = time.perf_counter() - t
        out["batch"] = {
            "settlements": len(created),
            "seconds": round(batch_s, 2),
            "per_s": round(len(created) / batch_s, 1),
        }
        print(
            f"  batch endpoint: {len(created):,} settlements in {batch_s:.1f} s "
            f"→ {len(created) / batch_s:,.1f}/s"
        )

        hises = his.create_hises(svc.base_url, chain_items + open_items)
        run = his.send_visits(hises, chain_items, threads=args.submitters)
        s = run.summary()
        per_s = len(run.settled) / run.seconds
        out["chain"] = {
            **s,
            "settled_per_s": round(per_s, 1),
            "ratio_to_batch": round(per_s / out["batch"]["per_s"], 3),
        }
        print(
            f"  gateway full chain: {len(run.settled):,} of {len(chain_items):,} visits settled "
            f"in {run.seconds:.1f} s "
            f"→ {per_s:,.1f}/s = {out['chain']['ratio_to_batch']}× the batch endpoint (target ≥ 0.25); "
            f"refused {s['refused'] or 0}"
        )

        start = time.perf_counter() + 0.5
        interval = calls_per_chain / args.rate

        def scheduled(k_p) -> his.Visit:  # noqa: ANN001
            k, p = k_p
            delay = start + k * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            return his.visit_chain(hises[p.institution.code], p)

        t = time.perf_counter()
        with ThreadPoolExecutor(64) as pool:
            visits = list(pool.map(scheduled, enumerate(open_items)))
        open_s = time.perf_counter() - t
        opened = his.GatewayRun(visits, open_s).summary()
        calls = opened["calls"]
        worst = max((v["p99"] for v in opened["ms"].values()), default=0.0)
        out["open_loop"] = {
            "offered_calls_per_s": args.rate,
            "achieved_calls_per_s": round(calls / open_s, 1),
            "ms": opened["ms"],
            "worst_p99_ms": worst,
            "settled": opened["settled"],
            "refused": opened["refused"],
        }
        print(
            f"  open loop, {args.rate:.0f} calls/s offered for {args.duration:.0f} s: {calls:,} calls "
            f"({calls / open_s:.1f}/s achieved), p50/p99 ms per infno: "
            + ", ".join(f"{k} {v['p50']:.0f}/{v['p99']:.0f}" for k, v in opened["ms"].items())
            + f"; worst p99 {worst:.0f} ms (target ≤ 100)"
        )
    out["load_average_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
