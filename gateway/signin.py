"""9001 签到 / 9002 签退 (spec/nhsa-gateway.md §1, §8): issue and close a ``sign_no``.

``sign_no`` has the service's id shape with kind letter ``Q``, dated at receipt to the second."""

from __future__ import annotations

from django.core.cache import cache

from core.ids import new_setl_id
from gateway import wire
from gateway.errors import Refusal
from gateway.models import SignIn
from gateway.service import Call, Result, sign_no_key


def sign_in(call: Call) -> Result:
    """``input.signIn`` {``opter_no``, ``mac``, ``ip``} → ``output.signinoutb``
    {``sign_time``, ``sign_no``}."""
    node = wire.node(call.input, "signIn")
    opter_no = wire.text(node, "opter_no", wire.node_name(call.input, "signIn"), max_len=30)
    sign_no = new_setl_id("Q", at=call.received.replace(microsecond=0))
    SignIn.objects.create(
        sign_no=sign_no,
        institution=call.institution,
        opter_no=opter_no or call.env.opter,
        signed_in_at=call.received,
    )
    return Result({"signinoutb": {"sign_time": wire.fmt_time(call.received), "sign_no": sign_no}})


def sign_out(call: Call) -> Result:
    """``input.signOut`` {``sign_no``, ``opter_no``} (or the envelope's ``sign_no``) →
    ``output.signoutoutb`` {``sign_time``, ``sign_no``}. Unknown or closed → ``invalid_sign_no``."""
    path = wire.node_name(call.input, "signOut")
    node = wire.node(call.input, "signOut")
    sign_no = wire.text(node, "sign_no", path, max_len=30) or call.env.sign_no
    done = SignIn.objects.filter(
        sign_no=sign_no, institution=call.institution, signed_out_at__isnull=True
    ).update(signed_out_at=call.received)
    if not done:
        raise Refusal("invalid_sign_no")
    cache.delete(sign_no_key(call.institution.pk, sign_no))  # a rollback only costs a cache miss
    return Result({"signoutoutb": {"sign_time": wire.fmt_time(call.received), "sign_no": sign_no}})
