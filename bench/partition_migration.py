"""Benchmark of the partitioning migrations on an existing database (docs/scaling.md
§Declarative partitioning; clearing 0009, settlement 0005).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ks_f .venv/bin/python bench/partition_migration.py \\
        --items 1000000 --settlements 200000

1. creates a scratch database ``<db>_pbench``, migrates it, then takes the two apps back to their
   plain tables (``clearing 0008``, ``settlement 0004``);
2. loads N clearing items of one day with ``COPY`` (as ``bench/close.py`` does), and M settlements
   of 50 institutions and 1,000 persons with 5 fee lines each (``INSERT … SELECT`` from
   ``generate_series``); ``VACUUM ANALYZE``;
3. times clearing 0009's steps apart (items: the old table attached, no copy; the online part —
   indexes ``CONCURRENTLY``, ``CHECK … NOT VALID`` + ``VALIDATE`` — and the one transaction that
   holds the lock) and ``migrate settlement 0005`` (settlements and fee lines copied into
   16 hash partitions each), and for comparison the copy path on the same items
   (``core.partitioning.table_rebuild``, after taking the items back to a plain table);
4. checks the row counts and prints rows/s; ratios are to the ``COPY`` load of the same rows.

The scratch database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.close import db_url, drop, load, manage, recreate  # noqa: E402

SETTLEMENTS = """
INSERT INTO settlement_settlement (
    setl_id, mdtrt_id, medins_setl_id, fingerprint, status, reason, reversal_kind, insutype, med_type,
    clr_type, insuplc_admdvs, mdtrtarea_admvs, payer, payee, dise_codg, acct_used_flag,
    medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt, inscp_scp_amt, act_pay_dedc,
    pool_prop_selfpay, hifp_pay, fund_pay_sumamt, psn_part_amt, acct_pay, psn_cash_pay, balc, clr_amt,
    setl_time, setl_date, clr_date, accum_year, med_type_group, dedc_moved, fund_moved, acct_moved,
    filing_type, filing_temporary, filing_created_now, institution_id, person_id)
SELECT 'S' || lpad(g::text, 12, '0'), 'M' || g, 'B-' || g, md5(g::text) || md5(g::text), 'settled', '',
    '', '310', '11', '11', '340100', '310100', '340000', '310000', '', '0',
    150.00, 0, 0, 0, 150.00, 0, 0.3, 105.00, 105.00, 45.00, 0, 45.00, 0, 105.00,
    now(), %(day)s, %(day)s, 2026, 'outpatient', 0, 105.00, 0,
    '', false, false, (SELECT min(id) FROM accounts_institution) + g %% 50,
    (SELECT min(id) FROM accounts_person) + g %% 1000
FROM generate_series(1, %(n)s) g
"""
LINES = """
INSERT INTO settlement_feedetail (
    settlement_id, feedetl_sn, med_list_codg, fee_ocur_time, cnt, pric, det_item_fee_sumamt, chrgitm_lv,
    selfpay_prop, fulamt_ownpay_amt, overlmt_amt, preselfpay_amt, inscp_scp_amt, warn)
SELECT s.id, k::text, 'XA01AAA001', now(), 1, 30.00, 30.00, '01', 0, 0, 0, 0, 30.00, ''
FROM settlement_settlement s, generate_series(1, 5) k
"""
PEOPLE = """
INSERT INTO accounts_institution (fixmedins_code, name, fixmedins_type, hosp_lv, admdvs)
SELECT 'HB' || lpad(g::text, 10, '0'), 'bench', '1', '3', '310100' FROM generate_series(1, 50) g;
INSERT INTO accounts_person (psn_no, psn_cert_type, certno_enc, certno_bidx, psn_name_enc, gend, insutype,
    insuplc_admdvs, psn_insu_stas, acct_balance, content_hash, created_at, updated_at)
SELECT 'PB' || g, '01', 'x', md5(g::text), 'x', '1', '310', '340100', '1', 0, '', now(), now()
FROM generate_series(1, 1000) g;
"""


def timed(url: str, *args: str) -> float:
    t = time.perf_counter()
    manage(url, *args)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--settlements", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("bench/partition_migration.py runs on PostgreSQL: set DATABASE_URL=postgres://…")
    import psycopg

    name = urlparse(base).path.lstrip("/") + "_pbench"
    url = db_url(base, name)
    day = dt.date.today() - dt.timedelta(days=1)
    print(f"partition migration benchmark: {args.items:,} items, {args.settlements:,} settlements "
          f"(× 5 fee lines), database {name}, load average {os.getloadavg()[0]:.1f}")
    recreate(base, name)
    manage(url, "migrate", "--no-input")
    manage(url, "migrate", "clearing", "0008")
    manage(url, "migrate", "settlement", "0004")
    load_items = load(url, args.items, day, 6)
    with psycopg.connect(url) as conn:
        conn.execute(PEOPLE)
        t = time.perf_counter()
        conn.execute(SETTLEMENTS, {"day": day, "n": args.settlements})
        conn.execute(LINES)
        conn.commit()
        load_settlements = time.perf_counter() - t
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  loaded: items (COPY) {load_items:.1f} s, settlements + fee lines (INSERT … SELECT) "
          f"{load_settlements:.1f} s")
    # clearing 0009's steps, timed apart: online (autocommit; writes would go on), then the one
    # transaction that holds the lock (catalogue changes only), then recorded as applied
    from clearing.partitions import items_partition, items_prepare

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        cur.execute("CREATE UNIQUE INDEX CONCURRENTLY clearing_item_setl_day "
                    "ON clearing_clearingitem (setl_id, clr_date)")
        cur.execute("ALTER TABLE clearing_clearingitem ADD CONSTRAINT clearing_item_setl_day "
                    "UNIQUE USING INDEX clearing_item_setl_day")
        items_prepare(cur, dt.date.today())
        online_s = time.perf_counter() - t
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        legacy = items_partition(cur, dt.date.today())
        conn.commit()
        locked_s = time.perf_counter() - t
    manage(url, "migrate", "clearing", "0009", "--fake")
    settle_s = timed(url, "migrate", "settlement", "0005")
    with psycopg.connect(url) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                  for t in ("clearing_clearingitem", "settlement_settlement", "settlement_feedetail")]
        kinds = [conn.execute("SELECT relkind FROM pg_class WHERE relname = %s", [t]).fetchone()[0]
                 for t in ("clearing_clearingitem", "settlement_settlement", "settlement_feedetail")]
    assert counts == [args.items, args.settlements, 5 * args.settlements], counts
    assert kinds == ["p", "p", "p"], kinds
    back_s = timed(url, "migrate", "clearing", "0008")
    with psycopg.connect(url) as conn:  # the copy path on the same items, for comparison
        from core import partitioning as p

        t = time.perf_counter()
        with conn.cursor() as cur:
            def default(c, parent: str) -> None:  # noqa: ANN001
                c.execute(f'CREATE TABLE "clearing_clearingitem_default" PARTITION OF "{parent}" DEFAULT')

            p.table_rebuild(cur, "clearing_clearingitem", partition_by="RANGE (clr_date)", key="clr_date",
                            make_partitions=default)
        conn.commit()
        copy_s = time.perf_counter() - t
    rows = 6 * args.settlements
    print(f"  clearing 0009 (items attached as {legacy}, no copy): online part (indexes CONCURRENTLY, "
          f"CHECK NOT VALID + VALIDATE) {online_s:.1f} s, the transaction holding the lock {locked_s:.2f} s "
          f"for {args.items:,} items")
    print(f"  migrate settlement 0005 (copy into hash partitions): {settle_s:.1f} s for {rows:,} rows "
          f"({rows / settle_s:,.0f} rows/s; the INSERT … SELECT load took {load_settlements:.1f} s)")
    print(f"  items copied into a partitioned table instead (table_rebuild, all under the lock): "
          f"{copy_s:.1f} s ({copy_s / locked_s:.0f}× the attach path's locked part); back to a plain "
          f"table (reverse migration) {back_s:.1f} s")
    print(f"  load average {os.getloadavg()[0]:.1f}")
    print(json.dumps({"items": args.items, "settlements": args.settlements,
                      "items_online_s": round(online_s, 1),
                      "items_locked_s": round(locked_s, 2), "settlements_copy_s": round(settle_s, 1),
                      "items_copy_s": round(copy_s, 1), "items_reverse_s": round(back_s, 1)}))
    if not args.keep:
        drop(base, name)


if __name__ == "__main__":
    main()
