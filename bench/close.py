"""Benchmark of the nightly close (spec/operations.md §Benchmarks, issue 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_f .venv/bin/python bench/close.py --items 1000000

1. creates a scratch database ``<db>_bench`` beside the one in ``DATABASE_URL`` and migrates it;
2. loads N clearing items of one business day across the 32 provinces with ``COPY`` (leaf hashes
   computed as ``clearing.leaf`` does; ~5% intra-province, ~1% reversals; amounts shaped like the
   main job's: 91% outpatient around 150 yuan, 9% inpatient around 13,000), plus the 32 prefund
   accounts; ``VACUUM ANALYZE``; ``CHECKPOINT``;
3. runs the bare ``SELECT payer, payee, sum(clr_amt), count(*) … GROUP BY`` over the same rows
   (the baseline), then the real close (``clearing.services.close.cycle_close``) in a child process
   whose peak RSS is its own ``VmHWM`` (``/proc/self/status``; ``ru_maxrss`` would carry the
   parent's high-water mark across ``exec``), then the baseline again;
4. prints items/s, peak RSS and the ratio close / baseline, and with ``--explain`` the plans of the
   close's two heaviest queries (where the time goes).

The scratch database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.network import HOME_WEIGHTS, TREATMENT_WEIGHTS, read_regions  # noqa: E402

CHUNK = 50_000


def db_url(base: str, name: str) -> str:
    u = urlparse(base)
    return urlunparse(u._replace(path="/" + name))


def recreate(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(url: str, *args: str, capture: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    )


def item_rows(n: int, clr_date: dt.date, seed: int):  # yields COPY text blocks
    """COPY text blocks of ``n`` items (setl_id, kind, payer, payee, clr_amt, fixmedins_code, clr_date,
    leaf_hash, created_at). ``setl_id`` follows ``core.ids.new_setl_id`` (UTC time + kind letter +
    hex), growing through the day like real ids."""
    rng = random.Random(seed)
    provinces = [r["admdvs"] for r in read_regions() if r["level"] == "province"]
    home_w = [HOME_WEIGHTS.get(p, 1) for p in provinces]
    treat_w = [TREATMENT_WEIGHTS.get(p, 0.4) for p in provinces]
    codes = {p: [f"H{p}{k:05d}" for k in range(101, 111)] for p in provinces}
    day = clr_date.isoformat()
    prefix = f"{clr_date:%Y%m%d}"
    step = 86_400_000_000 // max(n, 1)
    created = dt.datetime.now(dt.UTC).isoformat()
    payers = rng.choices(provinces, weights=home_w, k=n)
    payees = rng.choices(provinces, weights=treat_w, k=n)
    rand, lognorm, sha256 = rng.random, rng.lognormvariate, hashlib.sha256
    lines = []
    for i in range(n):
        payer, payee = payers[i], payees[i]
        if payer == payee and rand() > 0.05:
            payee = provinces[(provinces.index(payee) + 1 + int(rand() * 31)) % 32]
        secs, micros = divmod(i * step, 1_000_000)
        mins, secs = divmod(secs, 60)
        hours, mins = divmod(mins, 60)
        reversal = rand() < 0.01
        kind, letter = ("reversal", "R") if reversal else ("settlement", "S")
        amt = lognorm(0, 0.8) * (13_400.0 if rand() < 0.09 else 150.0) * 0.73
        amount = f"{-amt if reversal else amt:.2f}"
        if amount == "-0.00":
            amount = "0.00"
        setl_id = f"{prefix}{hours:02d}{mins:02d}{secs:02d}{micros:06d}{letter}{i & 0xFFFFFF:06x}"
        code = codes[payee][i % 10]
        leaf = (
            f'{{"clr_amt":"{amount}","clr_date":"{day}","fixmedins_code":"{code}","kind":"{kind}",'
            f'"payee":"{payee}","payer":"{payer}","setl_id":"{setl_id}"}}'
        ).encode()
        digest = sha256(b"\x00" + leaf).hexdigest()
        lines.append(
            f"{setl_id}\t{kind}\t{payer}\t{payee}\t{amount}\t{code}\t{day}\t\\\\x{digest}\t{created}\n"
        )
        if len(lines) == CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def check_leaf_format(clr_date: dt.date) -> None:
    """The bench's hand-written leaf bytes equal ``clearing.leaf.leaf_bytes`` (RFC 8785)."""
    from decimal import Decimal

    from clearing.leaf import leaf_bytes

    ours = (
        f'{{"clr_amt":"-12.30","clr_date":"{clr_date}","fixmedins_code":"H11000000101","kind":"reversal",'
        f'"payee":"110000","payer":"340000","setl_id":"X1"}}'
    ).encode()
    theirs = leaf_bytes(
        setl_id="X1",
        kind="reversal",
        payer="340000",
        payee="110000",
        clr_amt=Decimal("-12.30"),
        fixmedins_code="H11000000101",
        clr_date=clr_date,
    )
    assert ours == theirs, (ours, theirs)


def load(url: str, n: int, clr_date: dt.date, seed: int) -> float:
    import psycopg

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    check_leaf_format(clr_date)
    from clearing.services.cycles import cycle_ensure

    cycle_ensure(clr_date)
    prefunds = "admdvs,baseline,balance\n" + "".join(
        f"{r['admdvs']},1000000000.00,1000000000.00\n" for r in read_regions() if r["level"] == "province"
    )
    tmp = Path(f"/tmp/bench-prefunds-{os.getpid()}")
    tmp.mkdir(exist_ok=True)
    (tmp / "prefunds.csv").write_text(prefunds)
    manage(url, "import_reference", str(tmp))
    t = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cols = "setl_id, kind, payer, payee, clr_amt, fixmedins_code, clr_date, leaf_hash, created_at"
        with cur.copy(f"COPY clearing_clearingitem ({cols}) FROM STDIN") as copy:
            for block in item_rows(n, clr_date, seed):
                copy.write(block)
    seconds = time.perf_counter() - t
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE clearing_clearingitem")
        conn.execute("CHECKPOINT")
    return seconds


def baseline(url: str, clr_date: dt.date) -> float:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        cur.execute(
            "SELECT payer, payee, sum(clr_amt), count(*) FROM clearing_clearingitem "
            "WHERE clr_date = %s GROUP BY payer, payee",
            [clr_date],
        )
        cur.fetchall()
        return time.perf_counter() - t


CHILD = """
import json, os, sys, time, datetime as dt
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from clearing.services import fold
from clearing.services.close import cycle_close
workers_rss = []
real_fold = fold.parallel_fold
def spy(*args, **kwargs):
    done, aside = real_fold(*args, **kwargs)
    if done is not None:
        workers_rss.extend(part.peak_rss_kb for part in done[1])
    return done, aside
fold.parallel_fold = spy
def hwm():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
rss_before = hwm()
t = time.perf_counter()
cycle = cycle_close(clr_date=dt.date.fromisoformat({day!r}), actor="bench")
seconds = time.perf_counter() - t
peak = hwm()
print(json.dumps({{"seconds": seconds, "rss_before_kb": rss_before, "peak_rss_kb": peak,
                  "workers_rss_kb": workers_rss, "head": json.loads(bytes(cycle.head.canonical))}}))
"""


PHASES = """
import json, os, sys, time, datetime as dt
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from clearing import merkle
from clearing.services import figures as fig

clock = time.perf_counter
day = dt.date.fromisoformat({day!r})
# Each phase of cycle_figures on its own, one after the other (the close overlaps the aggregate
# with the fold on a second connection, so its wall time is less than the sum).
t = clock()
fig.item_groups(day)
aggregate = clock() - t
t = clock()
for _chunk in fig.leaf_hash_chunks(day):  # fetch alone (memory stays flat: chunks are dropped)
    pass
fetch = clock() - t
t = clock()
root = merkle.StreamingRoot()
for chunk in fig.leaf_hash_chunks(day):  # fetch + fold; the fold is the difference
    root.extend(chunk)
root.root()
fold = clock() - t - fetch
t = clock()
fig.cycle_figures(day)
total = clock() - t
print(json.dumps({{"figures_s": total, "leaf_fetch_s": fetch, "merkle_fold_s": fold,
                  "sql_aggregates_s": aggregate}}))
"""


FIGURES = """
import json, os, sys, time, datetime as dt
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from clearing.services import figures as fig
if {serial!r}:
    fig.fold_ranges = lambda *args, **kwargs: []  # the serial fold (one process)
t = time.perf_counter()
f = fig.cycle_figures(dt.date.fromisoformat({day!r}))
print(json.dumps({{"seconds": time.perf_counter() - t, "root": f.merkle_root.hex()}}))
"""


def figures_in_child(url: str, clr_date: dt.date, serial: bool) -> dict:
    """The close's figures alone, read-only, with the fold serial or on all cores (same run)."""
    script = FIGURES.replace("{serial!r}", repr(serial))
    return _run_child(script, url, clr_date, "figures")


def _run_child(script: str, url: str, clr_date: dt.date, what: str) -> dict:
    """Run a bench script in a fresh Python process against ``url``; its last stdout line is JSON."""
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("CELERY_BROKER_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", script.format(root=str(ROOT), day=clr_date.isoformat())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def phases_in_child(url: str, clr_date: dt.date) -> dict:
    """The close's figures recomputed read-only with timers: SQL aggregates, leaf-hash fetch, fold."""
    return _run_child(PHASES, url, clr_date, "phases")


def close_in_child(url: str, clr_date: dt.date) -> dict:
    """The real close in its own process, so its peak RSS is the close's alone."""
    return _run_child(CHILD, url, clr_date, "close")


def explain(url: str, clr_date: dt.date) -> list[str]:
    import psycopg

    queries = {
        "Merkle leaves in setl_id byte order (first chunk)": "SELECT string_agg(leaf_hash, '' ORDER BY "
        'setl_id COLLATE "C") FROM (SELECT leaf_hash, setl_id FROM clearing_clearingitem WHERE clr_date = %s '
        'ORDER BY setl_id COLLATE "C" LIMIT 8192) c',
        "item groups (payer, payee, institution)": "SELECT payer, payee, fixmedins_code, count(*), "
        "sum(clr_amt) FROM clearing_clearingitem WHERE clr_date = %s GROUP BY payer, payee, fixmedins_code",
    }
    out = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for label, sql in queries.items():
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, [clr_date])
            plan = [r[0] for r in cur.fetchall()]
            out.append(f"-- {label}")
            out += [
                f"   {line}"
                for line in plan
                if any(k in line for k in ("Sort", "Scan", "Execution", "Aggregate", "Disk"))
            ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--workers", type=int, default=0, help="parallel fold processes (default: one per core; 1: serial)"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the close's heaviest queries")
    parser.add_argument(
        "--compare-serial", action="store_true", help="also time the figures with the serial fold"
    )
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/close.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = urlparse(base).path.lstrip("/") + "_bench"
    url = db_url(base, name)
    clr_date = dt.date.today() - dt.timedelta(days=1)
    n = args.items
    if args.workers:
        os.environ["CLEARING_CLOSE_WORKERS"] = str(args.workers)
    cores = os.cpu_count()
    print(
        f"close benchmark: {n:,} items, database {name} (scratch), clr_date {clr_date}, "
        f"{cores} cores, fold workers {args.workers or cores}, load average {os.getloadavg()[0]:.1f}"
    )
    t = time.perf_counter()
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    print(f"  fresh database migrated in {time.perf_counter() - t:.1f} s")
    load_s = load(url, n, clr_date, args.seed)
    print(
        f"  loaded {n:,} items with COPY in {load_s:.1f} s ({n / load_s:,.0f} rows/s, leaf hashes included)"
    )
    base1 = baseline(url, clr_date)
    result = close_in_child(url, clr_date)
    base2 = baseline(url, clr_date)
    head = result["head"]
    bare = min(base1, base2)
    peak_mb = result["peak_rss_kb"] / 1024
    print(
        f"  baseline GROUP BY payer, payee over the same rows: {base1:.2f} s, "
        f"again after the close {base2:.2f} s"
    )
    print(
        f"  close: {result['seconds']:.2f} s = {n / result['seconds']:,.0f} items/s; "
        f"peak RSS of the closing process {peak_mb:.0f} MB "
        f"({result['rss_before_kb'] / 1024:.0f} MB before the close)"
    )
    if result["workers_rss_kb"]:
        rss = ", ".join(f"{kb / 1024:.0f}" for kb in result["workers_rss_kb"])
        print(f"  parallel fold: {len(result['workers_rss_kb'])} worker processes, peak RSS each {rss} MB")
    else:
        print("  fold: serial (one process)")
    load1 = os.getloadavg()[0]
    print(f"  ratio close / bare GROUP BY: {result['seconds'] / bare:.1f}× (load average {load1:.1f})")
    print(
        f"  head: tree_size {head['tree_size']:,}, item_cnt {head['item_cnt']:,}, gross {head['gross']}, "
        f"net_funding {head['net_funding']}, efficiency {head['netting_efficiency']}"
    )
    if head["tree_size"] != n:
        raise SystemExit(f"tree_size {head['tree_size']} != {n}")
    if args.compare_serial:
        par, ser = figures_in_child(url, clr_date, False), figures_in_child(url, clr_date, True)
        assert par["root"] == ser["root"] == head["merkle_root"], (par, ser)
        print(
            f"  figures alone (read-only, same run): fold on all cores {par['seconds']:.2f} s, "
            f"serial fold {ser['seconds']:.2f} s (same root); load average {os.getloadavg()[0]:.1f}"
        )
    if args.explain:
        ph = phases_in_child(url, clr_date)
        share = {k: ph[k] / ph["figures_s"] for k in ("sql_aggregates_s", "leaf_fetch_s", "merkle_fold_s")}
        print(
            f"  where the time goes (each phase of the figures timed alone, read-only; the close overlaps "
            f"the aggregate with the fold: figures {ph['figures_s']:.2f} s): "
            f"SQL aggregate {ph['sql_aggregates_s']:.2f} s "
            f"({share['sql_aggregates_s']:.0%}), leaf-hash fetch {ph['leaf_fetch_s']:.2f} s "
            f"({share['leaf_fetch_s']:.0%}), Merkle fold {ph['merkle_fold_s']:.2f} s "
            f"({share['merkle_fold_s']:.0%})"
        )
        print("\n".join(explain(url, clr_date)))
    print(
        json.dumps(
            {
                "items": n,
                "close_s": round(result["seconds"], 3),
                "items_per_s": round(n / result["seconds"]),
                "peak_rss_mb": round(peak_mb, 1),
                "baseline_s": round(bare, 3),
                "ratio": round(result["seconds"] / bare, 2),
                "workers_peak_rss_mb": [round(kb / 1024, 1) for kb in result["workers_rss_kb"]],
                "load_s": round(load_s, 1),
            }
        )
    )
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
