"""Bad requests the service must refuse (spec/README.md §Errors, spec/security.md §Signed requests,
spec/policy.md §Who may settle here), sent through the same HTTP API, and the replays it must answer
from what is recorded. Each check names what was sent, what the spec says must come back, and what
came back.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from demo.day import SHANGHAI, Day, pooling, serial, settle_body
from demo.http import Api, Client
from demo.network import Network, certno_check
from demo.submit import BATCH, SETTLE, Outcome


@dataclass
class Check:
    label: str
    expected: str  # "401 bad_signature", "200 replayed", …
    got: str

    @property
    def ok(self) -> bool:
        return self.got == self.expected


def _got(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        data = {}
    if resp.status_code in (200, 201):
        return (
            f"{resp.status_code} replayed"
            if resp.headers.get("Idempotent-Replayed") == "true"
            else str(resp.status_code)
        )
    return f"{resp.status_code} {data.get('code', '')}"


def run_checks(
    api: Api,
    clients: dict[str, Client],
    net: Network,
    day: Day,
    outcomes: dict[int, Outcome],
    reversals: list[Outcome],
    settlements: int,
) -> list[Check]:
    """Send every bad request once; returns the checks (all must be ``ok``)."""
    rng = random.Random(99)
    accepted = [p for p in day.items if outcomes.get(p.seq) and outcomes[p.seq].status == 201]
    p0 = next(p for p in accepted if p.person.province != p.institution.province and not p.reverse)
    client = clients[p0.institution.code]
    counter = iter(range(3 * settlements + 1, 4 * settlements + 1000))
    now = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=1)

    def fresh(person=p0.person, inst=p0.institution, med_type="11") -> dict:  # noqa: ANN001
        return settle_body(
            rng,
            person=person,
            inst=inst,
            med_type=med_type,
            medins_setl_id=serial(inst.code, day.runtag, next(counter)),
            end=now,
        )

    checks: list[Check] = []

    def post(label: str, expected: str, body: Any, target: str = SETTLE, who: Client = client) -> None:
        checks.append(Check(label, expected, _got(api.signed(who, "POST", target, body))))

    b = fresh()
    b["feedetail"][0]["det_item_fee_sumamt"] = float(b["feedetail"][0]["det_item_fee_sumamt"])
    post("amount sent as a JSON number", "400 invalid", b)
    b = fresh()
    b["feedetail"][0]["det_item_fee_sumamt"] = b["feedetail"][0]["det_item_fee_sumamt"][:-1]
    post("amount with one decimal place", "400 invalid", b)
    b = fresh()
    line = b["feedetail"][0]
    line["det_item_fee_sumamt"] = f"{float(line['det_item_fee_sumamt']) + 1:.2f}"
    post("line total ≠ cnt × pric", "422 amount_mismatch", b)
    b = fresh()
    b["feedetail"][0]["fee_ocur_time"] = (now + dt.timedelta(days=1)).isoformat(timespec="seconds")
    post("fee time in the future", "400 invalid", b)
    b = fresh()
    b["mdtrt_cert_type"], b["card_sn"] = "02", None
    b["mdtrt_cert_no"] = p0.person.certno[:17] + ("0" if p0.person.certno[17] != "0" else "1")
    post("certno with a wrong check digit", "400 invalid", b)
    stranger = "110101190001010" + "13"
    b["mdtrt_cert_no"] = stranger[:17] + certno_check(stranger[:17])
    post("nobody with that certno", "422 unknown_person", b)
    b = fresh()
    b["mdtrt_cert_type"], b["mdtrt_cert_no"], b["card_sn"] = "01", "EV-0000000000001", None
    post("e-voucher credential", "422 unsupported_cert_type", b)
    b = fresh()
    b["insutype"] = "390" if p0.person.insutype == "310" else "310"
    post("insutype not the person's", "422 insutype_mismatch", b)
    _filing_checks(post, fresh, clients, net, day, outcomes)
    post("empty batch", "400 invalid", {"items": []}, target=BATCH)

    # Idempotency: the same request again is a replay; the same serial with other content conflicts.
    checks.append(
        Check("the same request again", "200 replayed", _got(api.signed(client, "POST", SETTLE, p0.body)))
    )
    b = copy.deepcopy(p0.body)
    b["feedetail"][0]["cnt"] = str(int(float(b["feedetail"][0]["cnt"])) + 1)
    b["feedetail"][0]["det_item_fee_sumamt"] = (
        f"{int(b['feedetail'][0]['cnt']) * float(b['feedetail'][0]['pric']):.2f}"
    )
    post("same medins_setl_id, other content", "409 medins_setl_id_conflict", b)

    # Signed requests (spec/security.md).
    checks.append(
        Check(
            "signature with the wrong secret",
            "401 bad_signature",
            _got(api.signed(Client(client.client_id, client.secret + "x"), "POST", SETTLE, p0.body)),
        )
    )
    checks.append(
        Check(
            "timestamp 20 minutes old",
            "401 stale_timestamp",
            _got(api.signed(client, "POST", SETTLE, p0.body, ts=int(time.time()) - 1200)),
        )
    )
    checks.append(
        Check(
            "unknown client id",
            "401 unknown_client",
            _got(api.signed(Client("no-such-client", client.secret), "POST", SETTLE, p0.body)),
        )
    )
    nonce = f"demo-nonce-{day.runtag}-{rng.getrandbits(32):08x}"
    api.signed(client, "POST", SETTLE, p0.body, nonce=nonce)
    checks.append(
        Check(
            "nonce used twice",
            "401 replayed_nonce",
            _got(api.signed(client, "POST", SETTLE, p0.body, nonce=nonce)),
        )
    )
    _reversal_checks(checks, api, clients, day, outcomes, reversals, next(counter))
    return checks


def _filing_checks(
    post: Callable[..., None],
    fresh: Callable[..., dict],
    clients: dict[str, Client],
    net: Network,
    day: Day,
    outcomes: dict[int, Outcome],
) -> None:
    """``no_filing`` for a person with no filing at a hospital of another province, outside any
    province where an emergency today gave them a temporary one; ``not_out_of_area`` at home."""
    treated_in: dict[str, set[str]] = {}
    for p in day.items:
        if outcomes.get(p.seq) and outcomes[p.seq].accepted:
            treated_in.setdefault(p.person.psn_no, set()).add(p.institution.province)
    hospitals = [i for i in net.institutions if i.type == "1" and i.code in clients]
    for person in (p for p in net.persons if not p.filing_type and p.treat_province != p.province):
        places = treated_in.get(person.psn_no, set())
        inst = next(
            (i for i in hospitals if i.province not in places and i.province != person.province), None
        )
        if inst is not None:
            post(
                "outpatient in another province without a filing",
                "422 no_filing",
                fresh(person, inst),
                who=clients[inst.code],
            )
            break
    for person in net.persons:
        inst = next((i for i in hospitals if pooling(net, i.admdvs) == person.home), None)
        if inst is not None:
            post(
                "patient at home (not out of area)",
                "422 not_out_of_area",
                fresh(person, inst),
                who=clients[inst.code],
            )
            break


def _reversal_checks(
    checks: list[Check],
    api: Api,
    clients: dict[str, Client],
    day: Day,
    outcomes: dict[int, Outcome],
    reversals: list[Outcome],
    seq: int,
) -> None:
    done = [r for r in reversals if r.status == 201]
    if not done:
        return
    rev = done[0].info
    orig = next(
        p
        for p in day.items
        if outcomes.get(p.seq) and outcomes[p.seq].info.get("setl_id") == rev["orig_setl_id"]
    )
    client = clients[orig.institution.code]
    body = {"medins_setl_id": serial(orig.institution.code, day.runtag, seq), "reason": "重复撤销"}
    checks.append(
        Check(
            "reversing a reversed settlement",
            "409 already_reversed",
            _got(api.signed(client, "POST", f"{SETTLE}/{rev['orig_setl_id']}/reversal", body)),
        )
    )
    checks.append(
        Check(
            "reversing a reversal",
            "422 not_reversible",
            _got(api.signed(client, "POST", f"{SETTLE}/{rev['setl_id']}/reversal", body)),
        )
    )
    other = next(c for code, c in clients.items() if code != orig.institution.code)
    checks.append(
        Check(
            "another institution's settlement",
            "404 not_found",
            _got(api.signed(other, "POST", f"{SETTLE}/{rev['orig_setl_id']}/reversal", body)),
        )
    )
