"""Profile of the batch (or single) settle service, in process, without HTTP
(docs/performance.md §Ingest).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_b .venv/bin/python bench/profile_batch.py \\
        [--items 1000] [--profile cprofile|none] [--top 40] [--single]

On a scratch database ``<db>_bench_profile`` loaded with the main job's synthetic network (as
``bench/ingest.py`` does), calls ``settlement.services.batch.settlements_batch`` directly with the
planned settlements (5 fee lines each), grouped by institution in requests of up to 500 items;
prints settlements/s, SQL statements per settlement and, with ``--profile cprofile``, the top
functions by cumulative time.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--profile", choices=("cprofile", "none"), default="cprofile")
    parser.add_argument(
        "--single", action="store_true", help="call settlement_create once per item instead of the batch"
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/profile_batch.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_profile"
    url = db_url(base, name)
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    _net, day, _clients = setup(url, args.items, args.seed)

    from django.db import connection
    from django.utils import timezone

    from accounts.models import Institution
    from core.principals import Principal
    from settlement.presenters import batch_result
    from settlement.request_parsing import parse_settlement_request
    from settlement.services.batch import settlements_batch
    from settlement.services.settle import settlement_create

    by_inst: dict[str, list] = {}
    for p in day.items[: args.items]:
        by_inst.setdefault(p.institution.code, []).append(p)
    units = [v[i : i + args.batch_size] for v in by_inst.values() for i in range(0, len(v), args.batch_size)]
    institutions = {i.fixmedins_code: i for i in Institution.objects.filter(fixmedins_code__in=by_inst)}
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    statuses: dict[int, int] = {}
    prof = cProfile.Profile() if args.profile == "cprofile" else None
    t0 = time.perf_counter()
    with connection.execute_wrapper(count):
        if prof:
            prof.enable()
        for unit in units:
            inst = institutions[unit[0].institution.code]
            principal = Principal(role="institution", actor=f"bench:{inst.fixmedins_code}", institution=inst)
            if args.single:
                for p in unit:
                    req = parse_settlement_request(p.body, now=timezone.now())
                    created = settlement_create(institution=inst, request=req, principal=principal).created
                    statuses[201 if created else 200] = statuses.get(201 if created else 200, 0) + 1
                continue
            reqs = [parse_settlement_request(p.body, now=timezone.now()) for p in unit]
            for r in settlements_batch(institution=inst, requests=reqs, principal=principal):
                status = batch_result(r)["status"]
                statuses[status] = statuses.get(status, 0) + 1
        if prof:
            prof.disable()
    seconds = time.perf_counter() - t0
    n = sum(statuses.values())
    print(
        f"{'single' if args.single else 'batch'} service in process: {n} items in {len(units)} requests, "
        f"{seconds:.2f} s "
        f"→ {n / seconds:,.0f}/s "
        f"({seconds * 1000 / n:.2f} ms per item, {queries[0] / n:.1f} SQL statements per item); "
        f"statuses {dict(sorted(statuses.items()))}; load average {os.getloadavg()[0]:.2f}"
    )
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    connection.close()
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
