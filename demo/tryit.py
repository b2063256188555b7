"""After the main job: the logins a newcomer needs to look around (issue 14 §5, README "Try it").

- a **cardholder** who has records: the person whose receipt the job downloaded (activated by the
  job with :func:`demo.job.cardholder_password`);
- a **bureau** user of that person's insured province, for the bureau dashboard;
- a **clearing-staff** user for the admin and the staff API;
- a **card-only holder** (a card of the card day's registry, no medical person) with cleared uses,
  for the card pages ("my cards", "card usage" with receipts), when the run had a card day
  (:func:`card_only_login`).

The two staff users are created once per database and their passwords kept in the git-ignored
``.local/demo-logins.json`` (keyed by database), so every later ``make demo`` prints the same
logins for the same database instead of creating new users.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

# The environment the job ran with that the server must be started with too (same database).
SERVER_ENV = ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL", "CELERY_BROKER_URL")
# Where the bureau dashboard lives (bureau-ui, issue 14 §2); the sign-in page is below it.
DASHBOARD_PATH = "/bureau/"


@dataclass(frozen=True)
class StaffLogin:
    username: str
    password: str
    role: str
    admdvs: str


def _store_read(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _store_write(path: Path, data: dict[str, dict[str, dict[str, str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    tmp.replace(path)


def staff_logins(*, store: Path, database: str, bureau_admdvs: str) -> list[StaffLogin]:
    """A bureau user of ``bureau_admdvs`` and a clearing-staff user in this database, created on the
    first call (through ``accounts.services.staff_create``) and remembered in ``store``."""
    from django.contrib.auth import get_user_model

    from accounts.services import staff_create
    from core.principals import Principal

    data = _store_read(store)
    known = data.setdefault(database, {})
    users = get_user_model().objects
    logins = []
    for role, admdvs in (("bureau", bureau_admdvs), ("clearing_staff", "000000")):
        key = f"{role}:{admdvs}"
        saved = known.get(key)
        if saved and users.filter(username=saved["username"], is_active=True).exists():
            logins.append(StaffLogin(**saved))
            continue
        name = f"demo-{'bureau-' + admdvs if role == 'bureau' else 'staff'}"
        if users.filter(username=name).exists():  # created by a run whose password was not kept
            name = f"{name}-{secrets.token_hex(3)}"
        login = StaffLogin(name, f"Demo-{secrets.token_urlsafe(12)}", role, admdvs)
        staff_create(username=login.username, password=login.password, admdvs=admdvs, role=role,
                     principal=Principal(role="clearing_staff", actor="manage.py demo"))
        known[key] = asdict(login)
        logins.append(login)
    _store_write(store, data)
    return logins


def card_only_login(cards: list[dict[str, str]]) -> tuple[str, str] | None:
    """``(certno, password)`` of the card day's active card with the most cleared uses (ties: the
    smaller card number), activated as a card-only login (spec/cards.md: no medical person) through
    ``cardholder.services.cardholder_activate``; an earlier run's login is kept (same password: it
    is derived from the card's ``card_ref``). ``None`` when no card of ``cards`` has a cleared use."""
    import hashlib

    from django.db.models import Count

    from cardholder.services import cardholder_activate
    from cards.models import Acceptance
    from cards.services.registry import card_no_index
    from core.errors import Conflict

    by_index = {card_no_index(c["card_no"]): c for c in cards}
    used = (
        Acceptance.objects.filter(cleared=True, kind="acceptance", card__card_stas="active",
                                  card__card_no_bidx__in=list(by_index))
        .values_list("card__card_no_bidx")
        .annotate(n=Count("id"))
    )
    ranked = sorted(used, key=lambda row: (-row[1], by_index[row[0]]["card_no"]))
    if not ranked:
        return None
    card = by_index[ranked[0][0]]
    password = "demo-" + hashlib.sha256(card["card_sn"].upper().encode("ascii")).hexdigest()[:16]
    try:
        cardholder_activate(certno=card["certno"], card_no=card["card_no"], password=password,
                            address="127.0.0.1", channel="demo")
    except Conflict:
        pass  # activated by an earlier run on this database
    return card["certno"], password


def try_it_text(*, certno: str, password: str, staff: list[StaffLogin], run_dir: Path, env: str,
                card_holder: tuple[str, str] | None = None) -> str:
    """The "Try it" block printed at the end of ``make demo`` (the README shows the same steps);
    ``card_holder`` adds the card-only holder's login (:func:`card_only_login`)."""
    bureau = next(s for s in staff if s.role == "bureau")
    clearing = next(s for s in staff if s.role == "clearing_staff")
    base = "http://127.0.0.1:8000"
    card_line = (
        [f"  Card-only holder:     {base}/            certno {card_holder[0]}  password {card_holder[1]}  "
         "(a social security card, no medical records: my cards, card usage, receipts)"]
        if card_holder else []
    )
    lines = [
        "Try it",
        f"  Start the server:     {env}.venv/bin/python manage.py runserver 127.0.0.1:8000",
        f"  Cardholder pages:     {base}/            certno {certno}  password {password}",
        *card_line,
        f"  Bureau dashboard:     {base}{DASHBOARD_PATH}     user {bureau.username}  "
        f"password {bureau.password}  (province {bureau.admdvs})",
        f"  Admin (staff):        {base}/admin/      user {clearing.username}  password {clearing.password}",
        f"  API docs:             {base}/api/docs/   (OpenAPI at /api/schema/; staff token: POST "
        "/api/v1/auth/token with the staff login)",
        f"  Metrics:              {base}/metrics     (bearer token of the staff login)",
        f"  This run's files:     {run_dir}",
    ]
    return "\n".join(lines)
