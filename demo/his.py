"""A hospital information system (HIS) speaking the national interface to the gateway
(spec/nhsa-gateway.md): the main job sends about a third of the day's settlements this way, the
whole chain per visit, and ``bench/gateway.py`` drives the same client. HTTP only (no Django),
except :func:`split` which is pure.

Outpatient: 1101 → 2201 → 2204 → 2206 → 2207; inpatient: 1101 → 2401 → 2301 → 2402 → 2303 → 2304;
one 9001 per institution first. A call is retried with the **same** envelope (same ``msgid``, so
the answer is the stored one and nothing moves twice) and fresh x-tif headers after a connection
error, a 429 or a 503.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from demo.day import INPATIENT, Day, Planned

SH = ZoneInfo("Asia/Shanghai")
PATH = "/fsi/api/rsfComIfsService/callService"
GATEWAY_SLOTS = (0, 1, 2)  # seq % 7 in these → the gateway: 3/7 of the non-pharmacy bills ≈ 1/3 of the day


def split(day: Day) -> tuple[Day, list[Planned]]:
    """(the day without the gateway's bills, the gateway's bills). The gateway takes hospital bills
    (not pharmacy ``41``) that are not reversed later, deterministically by ``seq``."""
    to_gateway = [
        p for p in day.items if p.body["med_type"] != "41" and not p.reverse and p.seq % 7 in GATEWAY_SLOTS
    ]
    chosen = {p.seq for p in to_gateway}
    rest = Day(items=[p for p in day.items if p.seq not in chosen], runtag=day.runtag)
    for p in rest.items:
        rest.by_institution.setdefault(p.institution.code, []).append(p)
    return rest, to_gateway


@dataclass
class Answer:
    status: int
    env: dict
    ms: float

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.env.get("infcode") == 0

    @property
    def code(self) -> str:
        msg = self.env.get("err_msg") or ""
        return msg[1 : msg.index("]")] if msg.startswith("[") and "]" in msg else f"http_{self.status}"


class His:
    """One institution's HIS: its ``paasid``/secret, its region, its ``sign_no`` after 9001."""

    _counter = itertools.count(1)

    def __init__(self, base_url: str, code: str, admdvs: str, paasid: str, secret: str) -> None:
        self.base_url, self.code, self.admdvs, self.paasid, self.secret = (
            base_url,
            code,
            admdvs,
            paasid,
            secret,
        )
        self.sign_no = ""
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s

    def headers(self) -> dict[str, str]:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        sig = hashlib.sha256((ts + self.secret + nonce + ts).encode()).hexdigest()
        return {
            "Content-Type": "application/json;charset=utf-8",
            "x-tif-paasid": self.paasid,
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": sig,
        }

    def envelope(self, infno: str, inp: dict, insuplc: str) -> bytes:
        now = dt.datetime.now(SH)
        msgid = f"{self.code}{now:%Y%m%d%H%M%S}{next(self._counter) % 10000:04d}"
        return json.dumps(
            {
                "infno": infno,
                "msgid": msgid,
                "mdtrtarea_admvs": self.admdvs,
                "insuplc_admdvs": insuplc,
                "recer_sys_code": "MBS_LOCAL",
                "dev_no": "",
                "dev_safe_info": "",
                "cainfo": "",
                "signtype": "",
                "infver": "V1.0",
                "opter_type": "1",
                "opter": "0101",
                "opter_name": "收费员",
                "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
                "fixmedins_code": self.code,
                "sign_no": self.sign_no,
                "input": inp,
            },
            ensure_ascii=False,
        ).encode("utf-8")

    def call(self, infno: str, inp: dict, insuplc: str = "", attempts: int = 5) -> Answer:
        body = self.envelope(infno, inp, insuplc)
        for attempt in range(attempts):
            t = time.perf_counter()
            try:
                r = self.session.post(self.base_url + PATH, data=body, headers=self.headers(), timeout=600)
            except requests.ConnectionError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
                continue
            ms = (time.perf_counter() - t) * 1000
            if r.status_code in (429, 503) and attempt < attempts - 1:
                time.sleep(float(r.headers.get("Retry-After", "1") or 1))
                continue
            return Answer(r.status_code, json.loads(r.content) if r.content else {}, ms)
        raise RuntimeError("unreachable")  # pragma: no cover

    def sign_in(self) -> Answer:
        a = self.call("9001", {"signIn": {"opter_no": "0101", "mac": "", "ip": ""}})
        if a.ok:
            self.sign_no = a.env["output"]["signinoutb"]["sign_no"]
        return a


@dataclass
class Visit:
    """What happened to one bill sent through the gateway."""

    seq: int
    inpatient: bool
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    setl_id: str = ""

    @property
    def refused(self) -> str:
        return next((a.code for _, a in self.answers if not a.ok), "")


def visit_chain(his: His, p: Planned) -> Visit:
    """The whole national chain for one planned bill (its REST body mapped field for field, §5)."""
    b, psn = p.body, p.person.psn_no
    insuplc = p.person.home
    inpatient = b["med_type"] in INPATIENT
    v = Visit(p.seq, inpatient)
    cred = {k: b[k] for k in ("mdtrt_cert_type", "mdtrt_cert_no", "card_sn") if b.get(k)}

    def step(infno: str, inp: dict) -> Answer:
        a = his.call(infno, inp, insuplc)
        v.answers.append((infno, a))
        return a

    if not step("1101", {"data": dict(cred)}).ok:
        return v
    reg = {
        "psn_no": psn,
        "insutype": b["insutype"],
        "begntime": b["begntime"],
        "med_type": b["med_type"],
        "ipt_otp_no": f"V{p.seq}",
        "dise_codg": b.get("dise_codg", ""),
        **cred,
    }
    a = step("2401", {"mdtrtinfo": reg}) if inpatient else step("2201", {"data": reg})
    if not a.ok:
        return v
    mdtrt = a.env["output"]["result" if inpatient else "data"]["mdtrt_id"]
    lines = [{**ln, "mdtrt_id": mdtrt, "psn_no": psn, "chrg_bchno": "B1"} for ln in b["feedetail"]]
    if not step("2301" if inpatient else "2204", {"feedetail": lines}).ok:
        return v
    total = str(sum((Decimal(ln["det_item_fee_sumamt"]) for ln in b["feedetail"]), Decimal("0.00")))
    settle = {
        "psn_no": psn,
        "mdtrt_id": mdtrt,
        "medfee_sumamt": total,
        "insutype": b["insutype"],
        "med_type": b["med_type"],
        "acct_used_flag": b["acct_used_flag"],
        "psn_setlway": "01",
        **cred,
    }
    if inpatient:
        dscg = {"mdtrt_id": mdtrt, "psn_no": psn, "insutype": b["insutype"], "endtime": b["endtime"]}
        if not step("2402", {"dscginfo": dscg}).ok or not step("2303", {"mdtrtinfo": settle}).ok:
            return v
        a = step("2304", {"mdtrtinfo": {**settle, "mid_setl_flag": "0"}})
    else:
        settle["chrg_bchno"] = "B1"
        if not step("2206", {"data": settle}).ok:
            return v
        a = step("2207", {"data": settle})
    if a.ok:
        v.setl_id = a.env["output"]["setlinfo"]["setl_id"]
    return v


@dataclass
class GatewayRun:
    visits: list[Visit]
    seconds: float

    @property
    def settled(self) -> list[str]:
        return [v.setl_id for v in self.visits if v.setl_id]

    def latencies(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = defaultdict(list)
        for v in self.visits:
            for infno, a in v.answers:
                out[infno].append(a.ms)
        return out

    def summary(self) -> dict[str, Any]:
        lat = self.latencies()
        return {
            "visits": len(self.visits),
            "outpatient": sum(not v.inpatient for v in self.visits),
            "inpatient": sum(v.inpatient for v in self.visits),
            "calls": sum(len(v) for v in lat.values()),
            "settled": len(self.settled),
            "refused": dict(Counter(v.refused for v in self.visits if v.refused)),
            "visits_per_s": round(len(self.visits) / self.seconds, 1) if self.seconds else None,
            "ms": {
                k: {"p50": round(pct(v, 50), 1), "p99": round(pct(v, 99), 1)} for k, v in sorted(lat.items())
            },
        }


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else 0.0


def send_visits(
    hises: dict[str, His],
    items: list[Planned],
    *,
    threads: int,
    progress: Callable[[int], None] = lambda n: None,
) -> GatewayRun:
    """9001 once per institution, then every bill's chain. Bills go by the main job's lanes
    (:func:`demo.submit.lane_of`): one lane per thread, each person in one lane, a lane's bills one
    after another in ``seq`` order, so a seed gives the same figures under any timing."""
    from demo.submit import lane_of

    t = time.monotonic()
    for code in sorted({p.institution.code for p in items}):
        a = hises[code].sign_in()
        if not a.ok:
            raise RuntimeError(f"9001 of {code} refused: {a.status} {a.env.get('err_msg')}")
    lanes: list[list[Planned]] = [[] for _ in range(max(1, threads))]
    for p in sorted(items, key=lambda p: p.seq):
        lanes[lane_of(p.person.psn_no, len(lanes))].append(p)

    def run(lane: list[Planned]) -> list[Visit]:
        done = []
        for p in lane:
            done.append(visit_chain(hises[p.institution.code], p))
            progress(1)
        return done

    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        visits = sorted((v for lane in pool.map(run, lanes) for v in lane), key=lambda v: v.seq)
    return GatewayRun(visits, time.monotonic() - t)


def create_hises(base_url: str, items: list[Planned]) -> dict[str, His]:
    """A gateway-enabled client (``create_client CODE --gateway``) and its HIS per institution of
    ``items`` (needs Django: the same service as the command)."""
    from accounts.services import client_create
    from core.principals import Principal

    principal = Principal(role="clearing_staff", actor="manage.py demo")
    hises = {}
    for inst in {p.institution.code: p.institution for p in items}.values():
        client, secret = client_create(fixmedins_code=inst.code, principal=principal, gateway=True)
        hises[inst.code] = His(base_url, inst.code, inst.admdvs, client.client_id, secret)
    return hises


def report_lines(run: GatewayRun) -> list[str]:
    s = run.summary()
    lines = [
        f"    {s['visits']} visits through the NHSA gateway {PATH} ({s['outpatient']} outpatient "
        f"1101→2201→2204→2206→2207, {s['inpatient']} inpatient 1101→2401→2301→2402→2303→2304), "
        f"{s['calls']} calls, {s['settled']} settled ({s['visits_per_s']} visits/s)"
    ]
    if s["refused"]:
        lines.append(f"    refused through the gateway (infcode -1): {s['refused']}")
    lines.append(
        "    ms per infno (p50/p99): "
        + ", ".join(f"{k} {v['p50']:.0f}/{v['p99']:.0f}" for k, v in s["ms"].items())
    )
    return lines
