"""``manage.py deny_list_tick`` (spec/operations.md): lapses due temporary losses and issues the
hourly deny-list heartbeat (spec/cards.md §Deny lists); beat runs it every minute."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from cards.services.tick import deny_list_tick


class Command(BaseCommand):
    help = "Lapse due temporary losses and issue this hour's deny-list heartbeat (if missing)."

    def handle(self, *args, **options):  # noqa: ANN002, ANN003, ANN201
        r = deny_list_tick()
        self.stdout.write(json.dumps({"lapsed": r.lapsed, "lapse_version": r.lapse_version,
                                      "heartbeat_version": r.heartbeat_version, "expired": r.expired}))
