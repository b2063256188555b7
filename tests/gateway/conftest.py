"""Gateway test helpers: the example world loaded at a fixed time, a gateway client with the
spec's fixed ``paasid`` and secret, a test clock for receipt/answer times and scripted id hex."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets as real_secrets
import string
from collections import deque
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

SH = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
PATH = "/fsi/api/rsfComIfsService/callService"
PAASID = "ks_H31010400001_his"
SECRET = "example-only-secret-H31010400001-0123456789abcdef"


def stamp(s17: str) -> dt.datetime:
    """``yyyyMMddHHmmssSSS`` (Asia/Shanghai) → aware datetime."""
    return (
        dt.datetime.strptime(s17, "%Y%m%d%H%M%S%f").replace(tzinfo=SH)
        if len(s17) == 17
        else dt.datetime.strptime(s17 + "000", "%Y%m%d%H%M%S%f").replace(tzinfo=SH)
    )


class TestClock:
    """Receipt time for every clock read (Django's ``timezone.now`` too), answer time for
    ``respond_time``; hex tails of issued ids from a script (``secrets.token_hex(3)``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import core.ids
        import gateway.clock

        self.at = dt.datetime(2026, 11, 20, 8, 0, tzinfo=SH)
        self.reply = self.at
        self.hex: deque[str] = deque()
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.at)
        monkeypatch.setattr(gateway.clock, "now", lambda: self.at)
        monkeypatch.setattr(gateway.clock, "answered", lambda: self.reply)
        clock = self

        class Secrets:
            def token_hex(self, n: int | None = None) -> str:
                if n == 3 and clock.hex:
                    return clock.hex.popleft()
                return real_secrets.token_hex(n)

        monkeypatch.setattr(core.ids, "secrets", Secrets())

    def set(self, received: dt.datetime, answered: dt.datetime | None = None) -> None:
        self.at, self.reply = received, answered or received


@pytest.fixture
def clock(monkeypatch):  # noqa: ANN001, ANN201
    return TestClock(monkeypatch)


@pytest.fixture
def world(db, clock):  # noqa: ANN001, ANN201
    """Examples loaded at 2026-11-20 08:00 Asia/Shanghai (accumulators of 2026), the fixed gateway
    client of §6, and the ``inf_refmsgid`` serial set so the next one is 101 (as in G1.1)."""
    from accounts.models import Institution, InstitutionClient
    from core.crypto import encrypt
    from gateway.models import RefSerial

    call_command("import_reference", str(EXAMPLES), stdout=open("/dev/null", "w"))  # noqa: SIM115
    InstitutionClient.objects.create(
        client_id=PAASID,
        institution=Institution.objects.get(fixmedins_code="H31010400001"),
        secret_enc=encrypt(SECRET),
        gateway_enabled=True,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT setval('gateway_refmsgid_seq', 100)")
    else:
        RefSerial.objects.create(id=100)
    return clock


def tif_headers(paasid: str, secret: str, ts: str, nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or "".join(real_secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    sig = hashlib.sha256((ts + secret + nonce + ts).encode()).hexdigest()
    return {"x-tif-paasid": paasid, "x-tif-timestamp": ts, "x-tif-nonce": nonce, "x-tif-signature": sig}


class Gateway:
    """Posts envelopes as a HIS does; ``post`` returns the Django test response."""

    _seq = itertools.count(1)

    def __init__(self, client, clock: TestClock, paasid: str = PAASID, secret: str = SECRET) -> None:  # noqa: ANN001
        self.client, self.clock, self.paasid, self.secret = client, clock, paasid, secret

    def post(
        self,
        body: bytes | dict,
        *,
        headers: dict | None = None,
        content_type: str = "application/json;charset=utf-8",
        path: str = PATH,
    ):  # noqa: ANN201
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        h = headers or tif_headers(self.paasid, self.secret, str(int(self.clock.at.timestamp())))
        return self.client.generic("POST", path, raw, content_type=content_type, headers=h)

    def call(self, body: bytes | dict, **kw):  # noqa: ANN201
        """Post and return the parsed envelope (exact decimals)."""
        from decimal import Decimal

        r = self.post(body, **kw)
        return r.status_code, json.loads(r.content, parse_float=Decimal)


@pytest.fixture
def gw(client, world):  # noqa: ANN001, ANN201
    return Gateway(client, world)


def worked_examples() -> dict[str, dict]:
    return {s["step"]: s for s in json.loads((DATA / "worked_examples.json").read_text(encoding="utf-8"))}


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def envelope(
    infno: str,
    inp: dict,
    *,
    at: dt.datetime,
    seq: int = 1,
    code: str = "H31010400001",
    area: str = "310000",
    insuplc: str = "340100",
    sign_no: str = "",
) -> dict:
    """An envelope as §6 writes it; ``msgid`` = code + ``at`` (Asia/Shanghai) + ``seq``."""
    t = at.astimezone(SH)
    return {
        "infno": infno,
        "msgid": f"{code}{t:%Y%m%d%H%M%S}{seq:04d}",
        "mdtrtarea_admvs": area,
        "insuplc_admdvs": insuplc,
        "recer_sys_code": "MBS_LOCAL",
        "dev_no": "",
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "0101",
        "opter_name": "示例收费员",
        "inf_time": f"{t:%Y-%m-%d %H:%M:%S}",
        "fixmedins_code": code,
        "fixmedins_name": "",
        "sign_no": sign_no,
        "input": inp,
    }


def gateway_client_for(code: str) -> tuple[str, str]:
    """A new gateway-enabled client of institution ``code``: (paasid, secret)."""
    from accounts.services import client_create

    client, secret = client_create(fixmedins_code=code, gateway=True)
    return client.client_id, secret
