"""Heads and statements verify with the real ``openssl pkeyutl -verify -rawin`` using the served
PEM, canonical bytes and raw signature; one changed byte fails. Also the verify commands."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clearing.selectors import item_inclusion_proof
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.clearing.helpers import load_prefunds, record_example_day, staff_client

pytestmark = pytest.mark.django_db
OPENSSL = shutil.which("openssl")


def openssl_verify(tmp_path, pem: bytes, data: bytes, sig: bytes) -> bool:
    (tmp_path / "key.pem").write_bytes(pem)
    (tmp_path / "doc.json").write_bytes(data)
    (tmp_path / "doc.sig").write_bytes(sig)
    proc = subprocess.run(
        [
            OPENSSL,
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(tmp_path / "key.pem"),
            "-rawin",
            "-in",
            str(tmp_path / "doc.json"),
            "-sigfile",
            str(tmp_path / "doc.sig"),
        ],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


@pytest.fixture
def closed_day():
    load_prefunds()
    day = open_cycle_date()
    items = record_example_day()
    cycle_close(clr_date=day, actor="test")
    return day, items


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_openssl_verifies_served_head_and_statement(tmp_path, closed_day):
    day, _ = closed_day
    bureau = staff_client("bureau", "330000")
    anon = __import__("django.test", fromlist=["Client"]).Client()
    detail = bureau.get(f"/api/v1/cycles/{day}").json()
    pem = anon.get(f"/api/v1/keys/{detail['key_id']}.pem")
    assert pem.status_code == 200 and pem.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    head = bureau.get(f"/api/v1/cycles/{day}/head.json").content
    head_sig = bureau.get(f"/api/v1/cycles/{day}/head.sig").content
    assert len(head_sig) == 64
    assert openssl_verify(tmp_path, pem.content, head, head_sig)
    st = bureau.get(f"/api/v1/cycles/{day}/statement.json").content
    st_sig = bureau.get(f"/api/v1/cycles/{day}/statement.sig").content
    assert json.loads(st)["admdvs"] == "330000"
    assert openssl_verify(tmp_path, pem.content, st, st_sig)
    for data, sig in ((head, head_sig), (st, st_sig)):
        tampered = bytearray(data)
        tampered[len(tampered) // 2] ^= 0x01
        assert not openssl_verify(tmp_path, pem.content, bytes(tampered), sig)
        bad_sig = bytearray(sig)
        bad_sig[0] ^= 0x01
        assert not openssl_verify(tmp_path, pem.content, data, bytes(bad_sig))


def test_verify_commands(tmp_path, closed_day):
    day, items = closed_day
    bureau = staff_client("bureau", "310000")
    key_id = bureau.get(f"/api/v1/cycles/{day}").json()["key_id"]
    (tmp_path / "key.pem").write_bytes(bureau.get(f"/api/v1/keys/{key_id}.pem").content)
    (tmp_path / "st.json").write_bytes(bureau.get(f"/api/v1/cycles/{day}/statement.json").content)
    (tmp_path / "st.sig").write_bytes(bureau.get(f"/api/v1/cycles/{day}/statement.sig").content)
    call_command(
        "verify_statement",
        str(tmp_path / "st.json"),
        "--sig",
        str(tmp_path / "st.sig"),
        "--key",
        str(tmp_path / "key.pem"),
    )
    call_command("verify_statement", str(tmp_path / "st.json"), "--sig", str(tmp_path / "st.sig"))
    data = bytearray((tmp_path / "st.json").read_bytes())
    data[10] ^= 0x01
    (tmp_path / "bad.json").write_bytes(bytes(data))
    with pytest.raises(CommandError):
        call_command("verify_statement", str(tmp_path / "bad.json"), "--sig", str(tmp_path / "st.sig"))

    receipt = item_inclusion_proof(items["E1"].setl_id)
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    call_command("verify_receipt", str(tmp_path / "r.json"), "--key", str(tmp_path / "key.pem"))
    proof = bureau.get(f"/api/v1/cycles/{day}/items/{items['E1'].setl_id}/proof").json()
    assert proof == json.loads(json.dumps(receipt))
    receipt["leaf"] = receipt["leaf"].replace("2493.22", "2493.23")
    (tmp_path / "r2.json").write_text(json.dumps(receipt))
    with pytest.raises(CommandError):
        call_command("verify_receipt", str(tmp_path / "r2.json"))
