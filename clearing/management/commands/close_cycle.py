"""``manage.py close_cycle [--date YYYY-MM-DD]`` (spec/operations.md): closes that cycle, or every
past open one, with the same service as the nightly task, and prints the figures."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from clearing.services.close import cycle_close, cycles_close_due
from core.errors import DomainError


class Command(BaseCommand):
    help = "Close the cycle of --date, or every past cycle not closed yet, oldest first."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("--date", type=dt.date.fromisoformat, help="business day YYYY-MM-DD")

    def handle(self, *args, **opts):  # noqa: ANN002, ANN003, ANN201
        try:
            if opts["date"]:
                cycles = [cycle_close(clr_date=opts["date"], actor="manage.py")]
            else:
                cycles = cycles_close_due(actor="manage.py")
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.detail}") from exc
        if not cycles:
            self.stdout.write("nothing to close")
        for c in cycles:
            self.stdout.write(json.dumps(json.loads(bytes(c.head.canonical)), ensure_ascii=False, indent=2))
