"""Bureau dashboard pages (server-rendered, no JavaScript; charts are inline SVG from
:mod:`bureau.charts`; print CSS in ``bureau/static/bureau/bureau.css``).

Pages (sign-in and sign-out in :mod:`bureau.auth_views`): ``/bureau/`` the dashboard (today so
far, net position history of the last 30 cycles, bilateral flows, prefunds and alerts, statements
to acknowledge, open disputes, reconciliation; for clearing staff also the card scheme's panel,
:mod:`bureau.card_panel`, beside the medical figures and never added to them; a card bureau's
dashboard is its province's card panel alone) ·
``/bureau/cycles/<clr_date>`` one cycle's statement · exports
``/bureau/cycles/<clr_date>/statement.{xlsx,csv}`` and ``items.{xlsx,csv}`` · POST
``/bureau/cycles/<clr_date>/ack`` and ``/bureau/signout``.

Scope: a bureau sees its own province only; clearing staff see every province and may narrow the
pages to one with ``?admdvs=``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bureau import charts, selectors
from bureau.apis import items_export, statement_export
from bureau.card_panel import panel_context
from bureau.web_auth import bureau_page
from clearing import selectors as clearing_selectors
from clearing.services.statements import statement_ack
from core.errors import DomainError
from core.permissions import province_scope
from core.principals import Principal

ADMDVS = re.compile(r"[1-9][0-9]0000")
TO_ACK_SHOWN = 12


def _scope(request: HttpRequest, principal: Principal, names: dict[str, str]) -> str | None:
    """The province shown: a bureau's own (``?admdvs=`` ignored); staff's ``?admdvs=`` if it names a
    province (else 404), or ``None`` for every province."""
    own = province_scope(principal)
    if own is not None:
        return own
    wanted = request.GET.get("admdvs", "")
    if not wanted:
        return None
    if not ADMDVS.fullmatch(wanted) or wanted not in names:
        raise Http404("no such province")
    return wanted


def _day(clr_date: str) -> dt.date:
    try:
        return dt.date.fromisoformat(clr_date)
    except ValueError:
        raise Http404("no such cycle") from None


def _name(names: dict[str, str], code: str) -> str:
    return names.get(code, code)


def _figure(value: Decimal | int) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


def _recon_rows(lines: list[selectors.ReconLine], names: dict[str, str]) -> list[dict[str, Any]]:
    labels = {
        "intra": _("Intra-province amount"),
        "unlisted": _("Items of counterparties not on the statement"),
        "sum_net": _("Sum of net positions"),
        "gross": _("Gross = sum of bilateral amounts"),
        "tree_size": _("Items in the Merkle tree"),
    }
    rows = []
    for line in lines:
        kind, _sep, code = line.label.partition(":")
        if kind == "payable":
            text = _("Payable to %(province)s") % {"province": _name(names, code)}
        elif kind == "receivable":
            text = _("Receivable from %(province)s") % {"province": _name(names, code)}
        else:
            text = labels[kind]
        rows.append(
            {
                "label": text,
                "published": _figure(line.published),
                "recomputed": _figure(line.recomputed),
                "ok": line.ok,
            }
        )
    return rows


def _history_chart(scope: str | None, cycles: list, names: dict[str, str]) -> str:
    history = selectors.net_history(scope, cycles)
    if scope is None:
        points = [
            charts.Point(f"{d:%m-%d}", net, f"{d} {_('net funding')} {net:,.2f}") for d, net, _g in history
        ]
        label = _("Net funding of the last %(n)d cycles") % {"n": len(points)}
    else:
        points = [charts.Point(f"{d:%m-%d}", net, f"{d} {_('net')} {net:,.2f}") for d, net, _p in history]
        label = _("Net position of %(province)s, last %(n)d cycles") % {
            "province": _name(names, scope),
            "n": len(points),
        }
    return charts.column_chart(points, label=label)


def _flows(scope: str | None, cycle: Any, names: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Bilateral rows for the table and the chart (a province: net per counterparty; all: the
    largest pairs)."""
    rows = selectors.bilateral(scope, cycle)
    table = [
        {
            "payer": p,
            "payer_name": _name(names, p),
            "payee": q,
            "payee_name": _name(names, q),
            "amount": a,
            "cnt": n,
        }
        for p, q, a, n in rows
    ]
    if scope is None:
        points = [charts.Point(f"{_name(names, p)} → {_name(names, q)}", a) for p, q, a, _n in rows]
        return table, charts.bar_chart(points, label=_("Largest bilateral flows (payer → payee)"))
    nets: dict[str, Decimal] = {}
    for p, q, a, _n in rows:
        other = q if p == scope else p
        nets[other] = nets.get(other, Decimal("0.00")) + (a if q == scope else -a)
    ordered = sorted(nets.items(), key=lambda kv: (-kv[1], kv[0]))
    points = [charts.Point(_name(names, code), v) for code, v in ordered]
    return table, charts.bar_chart(points, label=_("Net with each counterparty (+ receives, − pays)"))


def _medical_only(principal: Principal) -> None:
    """The medical pages answer a card bureau 404 (spec/cards.md: card bureaus see the card scheme
    only)."""
    if principal.role == "card_bureau":
        raise Http404("the card scheme's dashboard is /bureau/")


@bureau_page
def dashboard(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The dashboard of the caller's scope (see the module docstring); a card bureau's shows its
    province's card scheme only."""
    names = selectors.province_names()
    scope = _scope(request, principal, names)
    if principal.role == "card_bureau":
        card = {"principal": principal, "scope": scope, "scope_name": _name(names, scope or ""),
                "names": names, **panel_context(principal, scope, names)}
        return render(request, "bureau/card_dashboard.html", card)
    cycles = selectors.closed_cycles()
    latest = cycles[-1] if cycles else None
    today = selectors.today_so_far(scope)
    to_ack, to_ack_total = selectors.statements_to_ack(scope, TO_ACK_SHOWN)
    context: dict[str, Any] = {
        "principal": principal,
        "scope": scope,
        "scope_name": _name(names, scope) if scope else "",
        "provinces": sorted(names.items()),
        "is_staff": scope is None or province_scope(principal) is None,
        "today": today,
        "today_rows": [
            {"code": c, "name": _name(names, c), "receivable": r, "payable": p, "net": r - p}
            for c, r, p in today.counterparties
        ],
        "latest": latest,
        "history_chart": _history_chart(scope, cycles, names),
        "prefunds": [
            {
                "view": v,
                "name": _name(names, v.admdvs),
                "gauge": charts.level_bar(
                    v.balance,
                    v.baseline,
                    v.threshold,
                    label=f"{_name(names, v.admdvs)} {v.balance:,.2f}",
                    threshold_label=low_prefund_percent(),
                ),
            }
            for v in selectors.prefunds(scope)
        ],
        "alerts": [{"alert": a, "name": _name(names, a.admdvs)} for a in selectors.alerts(scope, latest)],
        "to_ack": [{"statement": st, "name": _name(names, st.admdvs)} for st in to_ack],
        "to_ack_more": to_ack_total - len(to_ack),
        "disputes": selectors.open_disputes(scope),
        "overdue": selectors.overdue_dispute_ids(scope),
        "names": names,
        **panel_context(principal, scope, names),
    }
    if latest is not None:
        context["flows"], context["flows_chart"] = _flows(scope, latest, names)
        if scope is None:
            nets = selectors.net_positions(latest)
            context["nets_chart"] = charts.bar_chart(
                [charts.Point(_name(names, c), v) for c, v in nets],
                label=_("Net positions of cycle %(date)s (+ receives, − pays)") % {"date": latest.clr_date},
            )
            context["recon"] = _recon_rows(selectors.reconcile_head(latest.head, latest), names)
        else:
            doc = selectors.statement_document(latest, scope)
            context["recon"] = _recon_rows(selectors.reconcile_statement(doc, latest), names) if doc else []
    return render(request, "bureau/dashboard.html", context)


@bureau_page
def cycle(request: HttpRequest, principal: Principal, clr_date: str) -> HttpResponse:
    """One closed cycle: the province's statement (staff: ``?admdvs=``; without it the head and
    every province's net position), its reconciliation, export links and the acknowledgement."""
    _medical_only(principal)
    names = selectors.province_names()
    scope = _scope(request, principal, names)
    day = _day(clr_date)
    try:
        head = clearing_selectors.cycle_head_required(day)
    except DomainError:
        raise Http404("no such closed cycle") from None
    the_cycle = head.cycle
    context: dict[str, Any] = {
        "principal": principal,
        "scope": scope,
        "names": names,
        "head": head,
        "clr_date": day,
        "scope_name": _name(names, scope) if scope else "",
        "can_ack": principal.role == "bureau",
    }
    if scope is None:
        nets = selectors.net_positions(the_cycle)
        context["nets"] = [{"code": c, "name": _name(names, c), "net": v} for c, v in nets]
        context["recon"] = _recon_rows(selectors.reconcile_head(head, the_cycle), names)
    else:
        doc = selectors.statement_document(the_cycle, scope)
        if doc is None:
            raise Http404("no statement for this province")
        context["doc"] = doc
        context["bilateral"] = [
            {
                **b,
                "name": _name(names, b["counterparty"]),
                "net": Decimal(b["receivable"]) - Decimal(b["payable"]),
            }
            for b in doc["bilateral"]
        ]
        context["recon"] = _recon_rows(selectors.reconcile_statement(doc, the_cycle), names)
        context["ack"] = getattr(the_cycle.statements.filter(admdvs=scope).first(), "ack", None)
    query = f"?admdvs={scope}" if scope and province_scope(principal) is None else ""
    context["query"] = query
    return render(request, "bureau/cycle.html", context)


@bureau_page
def export(
    request: HttpRequest, principal: Principal, clr_date: str, what: str, fmt: str
) -> HttpResponseBase:
    """``statement.{xlsx,csv}`` (a province: the bureau's own or staff's ``?admdvs=``) and
    ``items.{xlsx,csv}`` (the items where the province is payer or payee; staff without
    ``?admdvs=``: every item) of a cycle, as the API serves them."""
    _medical_only(principal)
    names = selectors.province_names()
    scope = _scope(request, principal, names)
    day = _day(clr_date)
    try:
        if what == "statement":
            if scope is None:
                raise Http404("name the province (?admdvs=)")
            st = clearing_selectors.statement_get(day, scope)
            return statement_export(json.loads(bytes(st.canonical)), fmt, people=True)
        clearing_selectors.cycle_get(day)
        return items_export(clearing_selectors.items_visible(day, scope), fmt, clr_date, people=True)
    except DomainError:
        raise Http404("no such statement") from None


@require_POST
@bureau_page
def acknowledge(request: HttpRequest, principal: Principal, clr_date: str) -> HttpResponse:
    """The bureau confirms its statement (same service as ``POST …/statement/ack``)."""
    _medical_only(principal)
    try:
        statement_ack(principal=principal, clr_date=_day(clr_date))
    except DomainError as exc:
        if exc.status == 403:
            return HttpResponse(status=403)
        raise Http404("no statement") from None
    return redirect(reverse("bureau-cycle", args=[clr_date]))


def low_prefund_percent() -> str:
    return f"{Decimal(settings.LOW_PREFUND_RATIO) * 100:.0f}%"
