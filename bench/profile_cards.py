"""Profile of the card acceptance batch path, in process, without gunicorn (docs/performance.md
§Cards).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_b .venv/bin/python bench/profile_cards.py \\
        [--records 3000] [--batch 3000] [--profile cprofile|none] [--top 40]

On a scratch database ``<db>_bench_profile_cards`` with the demo's synthetic registry (3,000
cards), plans ``--records`` transit taps (online and offline, as ``bench/cards.py``) for **one**
transit acceptor and runs what the batch endpoint runs for them, in requests of ``--batch``
records: the strict JSON parse of the body, :func:`cards.services.acceptances.acceptances_record`,
the answer's JSON. Prints records/s, SQL statements per record and, with ``--profile cprofile``,
the top functions by cumulative time. (Signature checks, middleware and the socket are left out:
``bench/cards.py`` measures them with gunicorn's CPU per record.)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cards import plan, setup  # noqa: E402
from bench.close import db_url, drop, manage, recreate  # noqa: E402


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a PostgreSQL backend (``/proc``; 0 where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument(
        "--batch", type=int, default=3000, help="records per call (the endpoint takes ≤ 1000)"
    )
    parser.add_argument("--profile", choices=("cprofile", "none"), default="cprofile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (and its plan)")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/profile_cards.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench_profile_cards"
    url = db_url(base, name)
    saved = Path("/tmp") / f"{name}.json"
    if args.reuse and saved.exists():
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from demo import cards_day

        day = cards_day.CardDay(**json.loads(saved.read_text()))
    else:
        recreate(base, name)
        manage(url, "migrate", "--no-input")
        day = setup(url, args.seed)
        saved.write_text(json.dumps({"cards": day.cards, "acceptors": day.acceptors}))
    from django.db import connection

    from cards.apis.acceptances import result_body
    from cards.models import Acceptor
    from cards.services.acceptances import acceptances_record
    from core.parsers import strict_loads

    # transit taps of every transit acceptor, sent as one transit acceptor's (no transit benefit
    # rule exists, so the expected amounts do not depend on the acceptor's city)
    work = plan(day, args.records * 12 // 8 + 200, args.seed, tag=f"P{time.time_ns() // 1000_000}")
    code = next(c for c, (kind, _) in day.acceptors.items() if kind == "transit")
    records = [r for c, recs in work.items() if day.acceptors[c][0] == "transit" for r in recs][
        : args.records
    ]
    acceptor = Acceptor.objects.get(acceptor_code=code)
    bodies = [
        json.dumps({"items": records[i : i + args.batch]}).encode()
        for i in range(0, len(records), args.batch)
    ]
    queries = [0]

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        queries[0] += 1
        return execute(sql, params, many, context)

    statuses: dict[int, int] = {}
    prof = cProfile.Profile() if args.profile == "cprofile" else None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    t0, c0, b0 = time.perf_counter(), time.process_time(), backend_cpu(backend)
    with connection.execute_wrapper(count):
        if prof:
            prof.enable()
        for body in bodies:
            items = strict_loads(body, nul_deferred_under="items")["items"]
            results = acceptances_record(acceptor=acceptor, records=items)
            answer = json.dumps({"results": [result_body(r) for r in results]}).encode()
            for r in results:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            assert answer
        if prof:
            prof.disable()
    seconds, cpu, bcpu = time.perf_counter() - t0, time.process_time() - c0, backend_cpu(backend) - b0
    n = sum(statuses.values())
    print(
        f"acceptance batch in process: {n} records in {len(bodies)} calls, {seconds:.2f} s "
        f"→ {n / seconds:,.0f}/s ({seconds * 1000 / n:.3f} ms per record, "
        f"{queries[0] / n:.3f} Django SQL statements per record; Python CPU {cpu * 1000 / n:.3f} ms, "
        f"PostgreSQL backend CPU {bcpu * 1000 / n:.3f} ms per record); "
        f"statuses {dict(sorted(statuses.items()))}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    connection.close()
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
