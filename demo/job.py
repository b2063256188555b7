"""Steps of the main job that touch the database directly: loading the network through
``import_reference``, institution clients, the close, the cardholder receipt and the independent
verifications (spec/operations.md §The main job)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import secrets
import subprocess
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management import call_command

from demo.day import INPATIENT, Day
from demo.http import BASE_DIR, Api, Client
from demo.network import Network, policies_rows, write_reference
from demo.submit import Outcome


def import_network(net: Network, prefunds: list[dict[str, str]], directory: Path) -> str:
    """Write the CSV files into ``directory`` and load them with ``import_reference`` (the same
    importers as the bureau API). Returns the command's printed counts."""
    from clearing.models import PrefundAccount
    from settlement.models import Policy

    # Keep what is already loaded (e.g. the spec's examples, which ``make demo`` imports first):
    # the network adds policies and prefund accounts only where none exist, instead of replacing them.
    have = set(Policy.objects.values_list("insuplc_admdvs", "insutype", "med_type_group", "hosp_lv"))
    accounts = set(PrefundAccount.objects.filter(scheme="medical").values_list("admdvs", flat=True))
    write_reference(net, directory, [r for r in prefunds if r["admdvs"] not in accounts], skip_policies=have)
    buf = io.StringIO()
    call_command("import_reference", str(directory), stdout=buf)
    lines: list[str] = []
    rejected: Counter[str] = Counter()
    for line in buf.getvalue().splitlines():
        if line.startswith("  row "):  # one line per rejected row: summarised by code below
            rejected[line.split()[-1]] += 1
        else:
            lines.append(line)
    kept_policies = sum(
        1
        for r in policies_rows(net)
        if (r["insuplc_admdvs"], r["insutype"], r["med_type_group"], r["hosp_lv"]) in have
    )
    kept_accounts = sum(1 for r in prefunds if r["admdvs"] in accounts)
    if kept_policies or kept_accounts:
        lines.append(
            f"kept as already loaded (not replaced): {kept_policies} policies, "
            f"{kept_accounts} prefund accounts"
        )
    if rejected:
        lines.append("rejected rows by code: " + ", ".join(f"{k} {v}" for k, v in sorted(rejected.items())))
    return "\n".join(lines)


def create_clients(codes: list[str]) -> dict[str, Client]:
    """One API client per institution (the service behind ``create_client``)."""
    from accounts.services import client_create
    from core.principals import Principal

    principal = Principal(role="clearing_staff", actor="manage.py demo")
    clients = {}
    for code in codes:
        client, secret = client_create(fixmedins_code=code, principal=principal)
        clients[code] = Client(client.client_id, secret)
    return clients


def settled_rows(setl_ids: list[str]) -> list[dict[str, str]]:
    """``{"setl_id", "clr_date"}`` of settlements made through the gateway (read from the database)."""
    from settlement.models import Settlement

    rows = Settlement.objects.filter(setl_id__in=setl_ids).values_list("setl_id", "clr_date")
    return [{"setl_id": sid, "clr_date": d.isoformat()} for sid, d in rows]


def dates_to_close(target: dt.date) -> list[dt.date]:
    """Every date from the first cycle not yet closed through ``target`` (cycles close strictly in
    date order, spec/clearing.md §Cycles)."""
    from django.db.models import Max, Min

    from clearing.models import Cycle

    cycles = Cycle.objects.filter(scheme="medical")
    last = cycles.filter(status=Cycle.Status.CLOSED).aggregate(m=Max("clr_date"))["m"]
    start = last + dt.timedelta(days=1) if last else cycles.aggregate(m=Min("clr_date"))["m"] or target
    return [start + dt.timedelta(days=i) for i in range((target - start).days + 1)]


def close_in_process(dates: list[dt.date]) -> None:
    """Early close through the service behind ``POST /cycles/{clr_date}/close`` and the nightly task."""
    from clearing.services.close import cycle_close

    for d in dates:
        cycle_close(clr_date=d, actor="manage.py demo")


def close_over_http(api: Api, dates: list[dt.date], timeout: float = 900.0) -> list[str]:
    """Early close through the staff endpoint; with a broker the Celery worker runs the close
    (``202``), so wait until the cycle reads ``closed``. Returns the answers seen."""
    from accounts.services import staff_create, staff_token_issue
    from clearing.models import Cycle
    from core.principals import Principal

    username, password = f"demo-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    staff_create(
        username=username,
        password=password,
        admdvs="000000",
        role="clearing_staff",
        principal=Principal(role="clearing_staff", actor="manage.py demo"),
    )
    token, _ = staff_token_issue(username=username, password=password)
    answers = []
    for d in dates:
        resp = api.bearer(token, "POST", f"/api/v1/cycles/{d.isoformat()}/close")
        answers.append(f"POST /api/v1/cycles/{d}/close → {resp.status_code}")
        if resp.status_code not in (200, 202):
            raise RuntimeError(f"close of {d} refused: {resp.status_code} {resp.text[:300]}")
        deadline = time.monotonic() + timeout
        while Cycle.objects.filter(scheme="medical", clr_date=d, status=Cycle.Status.CLOSED).count() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cycle {d} not closed after {timeout:.0f} s")
            time.sleep(0.5)
    return answers


def cardholder_password(psn_no: str) -> str:
    """The password the job gives the cardholder it signs in as (printed in "Try it")."""
    return "demo-" + hashlib.sha256(psn_no.encode()).hexdigest()[:16]


def receipt_person(day: Day, outcomes: dict[int, Outcome], setl_id: str) -> Any:
    """The planned person of the settlement ``setl_id`` (the receipt's cardholder)."""
    return next(p.person for p in day.items
                if outcomes.get(p.seq) and (outcomes[p.seq].setlinfo or {}).get("setl_id") == setl_id)


def run_directory(root: Path, *, started: dt.datetime, database: str, seed: int, settlements: int) -> Path:
    """``root/<YYYYMMDD-HHMMSS>-<database>-seed<seed>-n<settlements>/``, created, with ``root/latest``
    pointing at it: runs on SQLite and PostgreSQL never overwrite each other's files."""
    stamp = started.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d-%H%M%S")
    run = root / f"{stamp}-{database}-seed{seed}-n{settlements}"
    run.mkdir(parents=True, exist_ok=False)
    latest = root / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run.name, target_is_directory=True)
    except OSError:  # a file system without symlinks: the printed path is enough
        pass
    return run


def receipt(api: Api, net: Network, day: Day, outcomes: dict[int, Outcome], out: Path) -> tuple[Path, str]:
    """A cardholder activates their login, signs in and downloads the receipt of one cross-province
    settlement of the day (spec/cardholder-api.md). Returns the file and its ``setl_id``."""
    pick = next(
        p
        for p in day.items
        if outcomes.get(p.seq)
        and outcomes[p.seq].status == 201
        and not p.reverse
        and p.person.province != p.institution.province
    )
    person, setl_id = pick.person, outcomes[pick.seq].info["setl_id"]
    password = cardholder_password(person.psn_no)
    resp = api.post(
        "/api/v1/cardholder/activate",
        {"certno": person.certno, "card_no": person.card_no, "password": password},
    )
    if resp.status_code not in (201, 409):
        raise RuntimeError(f"activation refused: {resp.status_code} {resp.text[:300]}")
    resp = api.post("/api/v1/cardholder/token", {"certno": person.certno, "password": password})
    resp.raise_for_status()
    token = resp.json()["token"]
    resp = api.bearer(token, "GET", f"/api/v1/me/settlements/{setl_id}/receipt")
    if resp.status_code != 200:
        raise RuntimeError(f"receipt refused: {resp.status_code} {resp.text[:300]}")
    path = out / f"receipt-{setl_id}.json"
    path.write_bytes(resp.content)
    return path, setl_id


def run_verifier(args: list[str]) -> tuple[bool, str]:
    """Run an independent verifier as its own process; (exit 0?, its output)."""
    proc = subprocess.run(args, cwd=BASE_DIR, capture_output=True, text=True, timeout=120)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def verifications(paths: dict[str, Path], statement: Path, receipt_path: Path) -> list[tuple[str, bool, str]]:
    """``verify_statement`` on one statement and the head, ``verify_receipt`` on the receipt,
    ``verify_audit`` on the audit chain (sealed by the caller first) and ``openssl pkeyutl -verify
    -rawin`` on the head — each a separate process."""
    py = [sys.executable, "manage.py"]
    sig = statement.with_suffix(".sig")
    checks = [
        (
            f"manage.py verify_statement {statement.name} --sig {sig.name} --key {paths['key'].name}",
            py + ["verify_statement", str(statement), "--sig", str(sig), "--key", str(paths["key"])],
        ),
        (
            f"manage.py verify_receipt {receipt_path.name} --key {paths['key'].name}",
            py + ["verify_receipt", str(receipt_path), "--key", str(paths["key"])],
        ),
        ("manage.py verify_audit", py + ["verify_audit"]),
        (
            f"openssl pkeyutl -verify -pubin -inkey {paths['key'].name} -rawin -in {paths['head'].name} "
            f"-sigfile {paths['head_sig'].name}",
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(paths["key"]),
                "-rawin",
                "-in",
                str(paths["head"]),
                "-sigfile",
                str(paths["head_sig"]),
            ],
        ),
    ]
    results = []
    for label, args in checks:
        try:
            ok, text = run_verifier(args)
        except FileNotFoundError:
            ok, text = False, "not installed"
        results.append((label, ok, text.splitlines()[-1] if text else ""))
    return results


def calibration(day: Day, outcomes: dict[int, Outcome]) -> dict[str, Any]:
    """Fund paid per outpatient visit and per inpatient stay in the sample, beside the public figures."""
    fund: dict[str, list[Decimal]] = defaultdict(list)
    for p in day.items:
        out = outcomes.get(p.seq)
        if out and out.status == 201:
            group = "inpatient" if p.body["med_type"] in INPATIENT else "outpatient"
            fund[group].append(Decimal(out.info["fund_pay_sumamt"]))
    n = sum(len(v) for v in fund.values()) or 1
    return {
        g: {
            "cnt": len(v),
            "share": f"{len(v) / n:.1%}",
            "fund_per_visit": f"{(sum(v) / len(v)) if v else 0:.2f}",
        }
        for g, v in sorted(fund.items())
    }


def summary_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
