"""``manage.py close_cycle [DATE | --date DATE] [--force] [--scheme medical|card]``
(spec/operations.md): closes that cycle of the scheme (default ``medical``), or every past cycle
not closed yet (of ``--scheme``, or of both schemes, medical first, when none is named), with the
same service as the nightly task, and prints each head.

The *live* cycle (the one taking today's new items, ``open_cycle_date``) is closed only with
``--force``: closing it early cuts the day short, and every later item of the day goes to the next
day's cycle. Several cycles show a progress bar on a terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from clearing.models import Scheme
from clearing.services.close import cycle_close, cycles_due
from clearing.services.cycles import open_cycle_date
from core.errors import DomainError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-12-01") from None


class Command(BaseCommand):
    help = ("Close the cycle of DATE (YYYY-MM-DD), or every past cycle not closed yet, oldest first. "
            "The live cycle (today's, still taking items) needs --force. --scheme card for the card scheme.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("date", nargs="?", help="business day YYYY-MM-DD (Asia/Shanghai)")
        parser.add_argument("--date", dest="date_option", metavar="DATE", help="same as the positional DATE")
        parser.add_argument("--force", action="store_true",
                            help="also close the live cycle (today's, still open): cuts the day early")
        parser.add_argument("--scheme", choices=list(Scheme.values),
                            help="clearing scheme (default: medical with a DATE, else both)")

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        given = [v for v in (opts["date"], opts["date_option"]) if v]
        if len(given) == 2 and given[0] != given[1]:
            raise CommandError("give the date once: DATE or --date DATE")
        if given:
            scheme = opts["scheme"] or Scheme.MEDICAL
            day = _date(given[0])
            live = open_cycle_date(scheme=scheme)
            if day == live and not opts["force"]:
                raise CommandError(
                    f"{day} is the live cycle: it is still taking today's items. Closing it now cuts the "
                    f"day early and later items go to {day + dt.timedelta(days=1)}. "
                    "Add --force to close it anyway.")
            todo = [(scheme, day)]
        else:
            schemes = [opts["scheme"]] if opts["scheme"] else list(Scheme.values)
            todo = [(s, d) for s in schemes for d in cycles_due(scheme=s)]
        if not todo:
            self.stdout.write("nothing to close")
            return
        closed = []
        bar = tqdm(todo, unit="cycle", desc="closing", disable=len(todo) < 2 or not sys.stderr.isatty())
        for scheme, day in bar:
            bar.set_postfix_str(f"{scheme} {day}")
            try:
                closed.append(cycle_close(clr_date=day, actor="manage.py", scheme=scheme))
            except DomainError as exc:
                raise CommandError(f"{scheme} {day}: {exc.code}: {exc.detail}") from None
        for c in closed:
            self.stdout.write(json.dumps(json.loads(bytes(c.head.canonical)), ensure_ascii=False, indent=2))
