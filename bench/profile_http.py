"""Profile of the settle endpoints over the whole Django stack, in process (docs/performance.md
§Ingest): signed requests through every middleware, authentication, DRF, the service and the
response rendering, without a socket.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_b REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/profile_http.py [--items 3000] [--single] [--profile pyinstrument|cprofile]

On a scratch database ``<db>_bench_http`` loaded like ``bench/ingest.py`` loads its own (the main
job's network, 5 fee lines per settlement), sends the planned settlements grouped by institution
(``POST /api/v1/settlements/batch`` of up to ``--batch-size`` items, or one ``POST
/api/v1/settlements`` each with ``--single``) through ``django.test.Client``; prints
settlements/s, SQL statements per settlement and the profile (``pyinstrument`` when installed).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.close import db_url, drop, manage, recreate  # noqa: E402
from bench.ingest import setup  # noqa: E402


def main() -> None:  # noqa: PLR0915 - a script, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--single", action="store_true", help="one POST /settlements per item")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument", "none"), default="pyinstrument")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/profile_http.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_http"
    url = db_url(base, name)
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    _net, day, clients = setup(url, args.items, args.seed)

    from django.db import connection
    from django.test import Client

    from demo.http import body_bytes, signed_headers
    from demo.submit import BATCH, SETTLE

    by_inst: dict[str, list] = {}
    for p in day.items[: args.items]:
        by_inst.setdefault(p.institution.code, []).append(p)
    units = [v[i : i + args.batch_size] for v in by_inst.values() for i in range(0, len(v), args.batch_size)]
    http = Client(HTTP_HOST="127.0.0.1")
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    import core.bulk

    bulk_execute = core.bulk._execute

    def bulk_count(sql, params, *, fetch):  # the bulk writes' own binary cursor
        queries[0] += 1
        return bulk_execute(sql, params, fetch=fetch)

    core.bulk._execute = bulk_count  # type: ignore[assignment]

    def post(client, target: str, obj) -> int:
        body = body_bytes(obj)
        headers = signed_headers(client.client_id, client.secret, "POST", target, body)
        meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
        resp = http.post(target, data=body, content_type="application/json", headers=None, **meta)  # type: ignore[arg-type]
        if resp.status_code not in (200, 201):
            raise SystemExit(f"{target}: {resp.status_code} {resp.content[:300]!r}")
        if target == BATCH:
            return sum(1 for r in resp.json()["results"] if r["status"] == 201)
        return 1 if resp.status_code == 201 else 0

    prof: object = None
    if args.profile == "cprofile":  # CPU time of this process: the machine's load does not count
        prof = cProfile.Profile(time.process_time)
    elif args.profile == "pyinstrument":
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
    created = requests = 0
    t0 = time.perf_counter()
    with connection.execute_wrapper(count):
        if prof is not None:
            prof.enable() if isinstance(prof, cProfile.Profile) else prof.start()  # type: ignore[attr-defined]
        for unit in units:
            client = clients[unit[0].institution.code]
            if args.single:
                for p in unit:
                    created += post(client, SETTLE, p.body)
                    requests += 1
            else:
                created += post(client, BATCH, {"items": [p.body for p in unit]})
                requests += 1
        if prof is not None:
            prof.disable() if isinstance(prof, cProfile.Profile) else prof.stop()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - t0
    print(
        f"{'single' if args.single else 'batch'} over the Django stack in process: {created} created "
        f"in {requests} requests, {seconds:.2f} s → {created / seconds:,.0f}/s "
        f"({seconds * 1000 / max(created, 1):.2f} ms per settlement, "
        f"{queries[0] / max(created, 1):.1f} SQL statements per settlement, "
        f"{queries[0] / max(requests, 1):.1f} per request); load average {os.getloadavg()[0]:.2f}"
    )
    if isinstance(prof, cProfile.Profile):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    elif prof is not None:
        print(prof.output_text(unicode=True, color=False, show_all=False))  # type: ignore[attr-defined]
    connection.close()
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
