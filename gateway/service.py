"""One gateway call from envelope to answer (spec/nhsa-gateway.md §3.2, §3.4).

Check order: envelope (§3.1) → ``msgid`` replay, conflict or tombstone → ``sign_no`` → ``input``
and the infno's own checks (its handler). A write runs in one transaction that first inserts its
``msgid`` (the unique constraint decides races: a concurrent twin waits on the index and then
replays the stored answer), then does the work and stores the answer encrypted. A refusal rolls
everything back, registers no ``msgid`` and is audited on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from core import metrics
from core.audit import audit_principal
from core.crypto import decrypt, encrypt
from core.errors import DomainError
from core.principals import Principal
from gateway import clock, wire
from gateway.answer import next_refmsgid, refusal_bytes, success_bytes
from gateway.envelope import Envelope, fingerprint, parse_envelope
from gateway.errors import Refusal, from_domain_error, invalid
from gateway.models import Message, SignIn


@dataclass(frozen=True)
class Call:
    """What a handler gets: the checked envelope, the caller and the receipt time."""

    env: Envelope
    institution: Any
    principal: Principal
    received: dt.datetime

    @property
    def input(self) -> dict:
        return self.env.input


@dataclass(frozen=True)
class Result:
    """A handler's answer (``output``, ``warn_msg``) and what the registry keeps for 2601."""

    output: Any
    warn_msg: str | None = None
    mdtrt_id: str = ""
    setl_id: str = ""
    psn_no: str = ""


def gateway_call(*, client: Any, raw: bytes, path_infno: str | None) -> bytes:
    """Answer one authenticated gateway request: the response body (HTTP 200 in every case)."""
    from gateway.dispatch import HANDLERS, served

    received = clock.now()
    institution = client.institution
    principal = Principal(role="institution", actor=client.client_id, institution=institution, client=client)
    env: Envelope | None = None
    try:
        env = parse_envelope(wire.loads(raw), institution=institution, received=received, served=served)
        if path_infno is not None and path_infno != env.infno:
            raise invalid("infno", "与请求路径中的交易编号不符")
        fp = fingerprint(env)
        stored = _replay_or_conflict(institution, env, fp)
        if stored is not None:
            return stored
        _check_sign_no(env, institution)
        call = Call(env=env, institution=institution, principal=principal, received=received)
        handler = HANDLERS[env.infno]
        body = _write(call, fp, handler.run) if handler.kind == "write" else _read(call, fp, handler.run)
        metrics.gateway_call_recorded(infno=env.infno, infcode="0")
        return body
    except DomainError as e:
        return _refused(from_domain_error(e), env, principal, received)
    except Refusal as r:
        return _refused(r, env, principal, received)


def _replay_or_conflict(institution: Any, env: Envelope, fp: str) -> bytes | None:
    """The stored answer of a known write ``msgid`` with the same ``infno`` and content; None for a
    new ``msgid`` or a repeated read (answered afresh). Raises ``msgid_reversed`` (tombstone) or
    ``msgid_conflict``."""
    known = Message.objects.filter(institution=institution, msgid=env.msgid).first()
    if known is None:
        return None
    if known.kind == Message.Kind.TOMBSTONE:
        raise Refusal("msgid_reversed")
    if known.infno != env.infno or known.fingerprint != fp:
        raise Refusal("msgid_conflict", f"报文ID重复：原交易 {known.infno}")
    if known.kind == Message.Kind.WRITE:
        return (decrypt(known.response_enc) or "").encode("utf-8")
    return None


def sign_no_key(institution_id: int, sign_no: str) -> str:
    return f"gwsign:{institution_id}:{sign_no}"


def _check_sign_no(env: Envelope, institution: Any) -> None:
    """``""``, or a ``sign_no`` issued by 9001 to this institution and not signed out (remembered in
    the cache for a minute; 9002 forgets it)."""
    if not env.sign_no:
        return
    key = sign_no_key(institution.pk, env.sign_no)
    if cache.get(key):
        return
    if not SignIn.objects.filter(
        sign_no=env.sign_no, institution=institution, signed_out_at__isnull=True
    ).exists():
        raise Refusal("invalid_sign_no")
    cache.set(key, 1, timeout=60)


def _audit(principal: Principal, env: Envelope, action: str, extra: dict[str, Any]) -> None:
    audit_principal(
        principal,
        action,
        "gateway_message",
        env.msgid,
        {
            "infno": env.infno,
            "opter": env.opter,
            "opter_type": env.opter_type,
            "dev_no": env.dev_no,
            "signtype": env.signtype,
            "opter_name_sha256": env.opter_name_sha256,
            "dev_safe_info_sha256": env.dev_safe_info_sha256,
            "cainfo_sha256": env.cainfo_sha256,
            **extra,
        },
    )


def _write(call: Call, fp: str, run: Any) -> bytes:
    """Do the work, then register the ``msgid`` with its answer, all in one transaction. A twin that
    registered first makes our insert fail (or, if it committed before we locked the visit, our
    checks refuse): either way the transaction rolls back and the twin's stored answer is replayed."""
    env = call.env
    try:
        with transaction.atomic():
            result: Result = run(call)
            refmsgid = next_refmsgid(call.received)
            body = success_bytes(
                refmsgid=refmsgid,
                received=call.received,
                responded=clock.answered(),
                output=result.output,
                warn_msg=result.warn_msg,
            )
            Message.objects.create(
                institution=call.institution,
                msgid=env.msgid,
                infno=env.infno,
                kind=Message.Kind.WRITE,
                fingerprint=fp,
                received_at=call.received,
                response_enc=encrypt(body.decode("utf-8")) or "",
                mdtrt_id=result.mdtrt_id,
                setl_id=result.setl_id,
                psn_no=result.psn_no,
            )
            _audit(call.principal, env, f"gateway.{env.infno}", {"inf_refmsgid": refmsgid})
        return body
    except (IntegrityError, Refusal, DomainError):
        stored = _replay_or_conflict(call.institution, env, fp)
        if stored is None:
            raise
        return stored


def _read(call: Call, fp: str, run: Any) -> bytes:
    env = call.env
    with transaction.atomic():
        result: Result = run(call)
        refmsgid = next_refmsgid(call.received)
        Message.objects.bulk_create(  # a concurrent repeat of the same read may have registered it
            [
                Message(
                    institution=call.institution,
                    msgid=env.msgid,
                    infno=env.infno,
                    kind=Message.Kind.READ,
                    fingerprint=fp,
                    received_at=call.received,
                )
            ],
            ignore_conflicts=True,
        )
        _audit(call.principal, env, f"gateway.{env.infno}", {"inf_refmsgid": refmsgid})
    return success_bytes(
        refmsgid=refmsgid,
        received=call.received,
        responded=clock.answered(),
        output=result.output,
        warn_msg=result.warn_msg,
    )


def _refused(r: Refusal, env: Envelope | None, principal: Principal, received: dt.datetime) -> bytes:
    metrics.gateway_call_recorded(infno=env.infno if env else "", infcode="-1")
    if env is not None:
        with transaction.atomic():
            _audit(principal, env, "gateway.refused", {"code": r.code})
    else:
        with transaction.atomic():
            audit_principal(principal, "gateway.refused", "gateway_message", "", {"code": r.code})
    return refusal_bytes(r, received, clock.answered())
