"""Submitting the day through the real HTTP API (spec/hospital-api.md): batches per institution (the
fast path), some single requests, reversals and partial re-settlements. Each request is retried with
the same body after a connection error, a 503 or a 429 — safe because the institution's serial is
the idempotency key.
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from demo.day import Day, Planned, serial
from demo.http import Api, Client

SETTLE = "/api/v1/settlements"
BATCH = "/api/v1/settlements/batch"


@dataclass
class Outcome:
    """One settle or reversal answer: ``status`` and either ``setlinfo`` or ``problem``."""

    status: int
    setlinfo: dict | None = None
    problem: dict | None = None
    replayed: bool = False

    @property
    def info(self) -> dict[str, Any]:
        """``setlinfo`` of an accepted answer; ``{}`` for a refusal."""
        return self.setlinfo or {}

    @property
    def accepted(self) -> bool:
        return self.status in (200, 201)

    @property
    def code(self) -> str:
        return (self.problem or {}).get("code", "")


def send(
    api: Api, client: Client, method: str, target: str, obj: Any, attempts: int = 5
) -> requests.Response:
    """A signed request, retried (fresh nonce and timestamp, same body) on connection errors, 503, 429."""
    for attempt in range(attempts):
        try:
            resp = api.signed(client, method, target, obj)
        except requests.ConnectionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
            continue
        if resp.status_code in (429, 503) and attempt < attempts - 1:
            time.sleep(float(resp.headers.get("Retry-After", "1") or 1))
            continue
        return resp
    raise RuntimeError("unreachable")  # pragma: no cover


def outcome_of(resp: requests.Response) -> Outcome:
    data = resp.json() if resp.content else {}
    replayed = resp.headers.get("Idempotent-Replayed") == "true"
    if resp.status_code in (200, 201):
        return Outcome(resp.status_code, setlinfo=data.get("setlinfo", data), replayed=replayed)
    return Outcome(resp.status_code, problem=data)


def lane_of(key: str, lanes: int) -> int:
    """The submitter lane (``0 … lanes − 1``) of a person, by ``psn_no``: crc32, stable across
    processes (Python's ``hash`` of a str is salted per process)."""
    return zlib.crc32(key.encode()) % lanes


Unit = tuple[str, list[Planned]]


def _units(items_by_institution: dict[str, list[Planned]], batch_size: int) -> list[Unit]:
    """Work units interleaved across institutions, as a day would be:
    ``("batch", items)`` or ``("single", [item])``."""
    per_inst = []
    for items in items_by_institution.values():
        batch = [p for p in items if p.channel == "batch"]
        units = [("batch", batch[i : i + batch_size]) for i in range(0, len(batch), batch_size)]
        units += [("single", [p]) for p in items if p.channel == "single"]
        units.sort(key=lambda u: u[1][0].seq)
        per_inst.append(units)
    out: list[tuple[str, list[Any]]] = []
    for group in itertools.zip_longest(*per_inst):
        out.extend(u for u in group if u is not None)
    return out


def lanes_of(day: Day, batch_size: int, lanes: int) -> list[list[Unit]]:
    """The day's work split into ``lanes`` lists of units, one per concurrent submitter.

    **The ordering rule that makes the main job's figures the same for a seed on any database and
    under any thread timing**: every person belongs to exactly one lane (:func:`lane_of` of their
    ``psn_no``), and a lane submits its units one after another, in this fixed order. So each
    person's settlements reach their accumulators, account balance and filings in the same order in
    every run; only different persons' requests run concurrently, and they share no per-person state.
    (The split of a bill depends on what the same person used before it; nothing else depends on
    arrival order.) Another demo module that writes per-person state must route by the same lanes.
    """
    split: list[dict[str, list[Planned]]] = [{} for _ in range(lanes)]
    for code, items in day.by_institution.items():
        for p in items:
            split[lane_of(p.person.psn_no, lanes)].setdefault(code, []).append(p)
    return [_units(by_inst, batch_size) for by_inst in split]


def submit_day(
    api: Api,
    clients: dict[str, Client],
    day: Day,
    *,
    batch_size: int,
    threads: int,
    progress: Callable[[int], None],
) -> dict[int, Outcome]:
    """POST every planned settlement, one submitter thread per lane (:func:`lanes_of`); returns
    ``seq → Outcome``."""

    def run(unit: Unit) -> list[tuple[int, Outcome]]:
        kind, items = unit
        client = clients[items[0].institution.code]
        if kind == "single":
            resp = send(api, client, "POST", SETTLE, items[0].body)
            result = [(items[0].seq, outcome_of(resp))]
        else:
            resp = send(api, client, "POST", BATCH, {"items": [p.body for p in items]})
            if resp.status_code != 200:
                raise RuntimeError(f"batch refused: {resp.status_code} {resp.text[:300]}")
            answers = resp.json()["results"]
            result = [
                (p.seq, Outcome(a["status"], setlinfo=a.get("setlinfo"), problem=a.get("problem")))
                for p, a in zip(items, answers, strict=True)
            ]
        progress(len(items))
        return result

    def run_lane(units: list[Unit]) -> list[tuple[int, Outcome]]:
        return [pair for unit in units for pair in run(unit)]

    outcomes: dict[int, Outcome] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for result in pool.map(run_lane, lanes_of(day, batch_size, threads)):
            outcomes.update(result)
    return outcomes


def reverse_and_resettle(
    api: Api, clients: dict[str, Client], day: Day, outcomes: dict[int, Outcome], settlements: int
) -> tuple[list[Outcome], list[Outcome]]:
    """Reverse the planned ~1% (whole settlement, spec/hospital-api.md §reversal) and settle half of
    them again for less. Returns (reversal outcomes, re-settlement outcomes)."""
    reversals, resettled = [], []
    for p in day.items:
        out = outcomes.get(p.seq)
        if not p.reverse or out is None or not out.accepted:
            continue
        client = clients[p.institution.code]
        body = {
            "medins_setl_id": serial(p.institution.code, day.runtag, 2 * settlements + p.seq),
            "reason": "患者退费重结" if p.resettle else "结算信息有误",
        }
        rev = outcome_of(send(api, client, "POST", f"{SETTLE}/{out.info['setl_id']}/reversal", body))
        reversals.append(rev)
        if rev.accepted and p.resettle is not None:
            resettled.append(outcome_of(send(api, client, "POST", SETTLE, p.resettle)))
    return reversals, resettled
