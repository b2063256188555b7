"""1101 人员信息获取 (spec/nhsa-gateway.md §5.1) on the service's audited person lookup, and the
person fields every output repeats (``baseinfo``, ``setlinfo``)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any

from accounts.certno import mask_certno
from accounts.models import Person
from accounts.selectors import person_certno, person_name
from gateway import bridge, wire
from gateway.errors import Refusal
from gateway.service import Call, Result


def age_on(brdy: dt.date | None, day: dt.date) -> Decimal:
    """Completed years on ``day`` (4,1), ``0.0`` without a birth date ([UNCONFIRMED] meaning)."""
    if brdy is None:
        return Decimal("0.0")
    years = day.year - brdy.year - ((day.month, day.day) < (brdy.month, brdy.day))
    return Decimal(f"{years}.0")


def person_fields(person: Person, at: dt.datetime) -> dict[str, Any]:
    """``psn_name``, ``psn_cert_type``, masked ``certno``, ``gend``, ``naty``, ``brdy``, ``age``."""
    return {
        "psn_name": person_name(person),
        "psn_cert_type": person.psn_cert_type,
        "certno": mask_certno(person_certno(person)),
        "gend": person.gend,
        "naty": "",
        "brdy": person.brdy.isoformat() if person.brdy else "",
        "age": age_on(person.brdy, at.astimezone(wire.SHANGHAI).date()),
    }


def credential_of(node: dict, path: str) -> dict[str, str]:
    """The lookup credential of a national node: ``mdtrt_cert_type``/``mdtrt_cert_no``/``card_sn``,
    or (no ``mdtrt_cert_type``) ``psn_cert_type`` ``01`` + ``certno`` as credential ``02``."""
    cert_type = wire.text(node, "mdtrt_cert_type", path, max_len=3)
    if not cert_type and wire.text(node, "psn_cert_type", path, max_len=6) == "01":
        return {"mdtrt_cert_type": "02", "mdtrt_cert_no": wire.text(node, "certno", path, required=True)}
    cred = {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": wire.text(node, "mdtrt_cert_no", path, max_len=64)}
    card_sn = wire.text(node, "card_sn", path, max_len=64)
    if card_sn:
        cred["card_sn"] = card_sn
    if not cert_type:
        raise wire.invalid(f"{path}.mdtrt_cert_type", "不能为空")
    return cred


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def _baseinfo(person: Person, at: dt.datetime) -> dict[str, Any]:
    f = person_fields(person, at)
    order = ("psn_cert_type", "certno", "psn_name", "gend", "naty", "brdy", "age")
    return {"psn_no": person.psn_no, **{k: f[k] for k in order}}


def person_info(call: Call) -> Result:
    """``input.data`` → ``baseinfo``, ``insuinfo[1]``, ``idetinfo`` ``[]``. Refusals: the person
    codes of the lookup, ``name_mismatch`` when ``psn_name`` is sent and differs."""
    path = wire.node_name(call.input, "data")
    node = wire.node(call.input, "data")
    found = bridge.lookup(
        institution=call.institution, cred=credential_of(node, path), principal=call.principal
    )
    name = wire.text(node, "psn_name", path, max_len=50)
    if name and _nfkc(name) != _nfkc(found["psn_name"]):
        raise Refusal("name_mismatch")
    person = Person.objects.get(psn_no=found["psn_no"])
    return Result(
        {
            "baseinfo": _baseinfo(person, call.received),
            "insuinfo": [
                {
                    "balc": wire.money_out(person.acct_balance),
                    "insutype": person.insutype,
                    "psn_type": "",
                    "psn_insu_stas": person.psn_insu_stas,
                    "psn_insu_date": "",
                    "paus_insu_date": "",
                    "cvlserv_flag": "0",
                    "insuplc_admdvs": person.insuplc_admdvs,
                    "emp_name": "",
                }
            ],
            "idetinfo": [],
        },
        psn_no=person.psn_no,
    )
