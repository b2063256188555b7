"""``manage.py create_client FIXMEDINS_CODE [--gateway]`` / ``create_client --acceptor ACCEPTOR_CODE``:
prints one JSON line ``{"client_id", "secret"}`` (spec/operations.md §Commands). The secret is shown
only here."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from accounts.services import client_create
from core.errors import DomainError
from core.principals import Principal


class Command(BaseCommand):
    help = "Create an API client for an institution; prints {\"client_id\", \"secret\"} as one JSON line."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("fixmedins_code", nargs="?")
        parser.add_argument("--gateway", action="store_true",
                            help="also allow NHSA gateway calls (x-tif-paasid = client_id); off by default")
        parser.add_argument("--acceptor", metavar="ACCEPTOR_CODE",
                            help="a card acceptor's client (spec/cards.md)")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003, ANN201
        principal = Principal(role="clearing_staff", actor="manage.py create_client")
        if bool(options["acceptor"]) == bool(options["fixmedins_code"]):
            raise CommandError("name either FIXMEDINS_CODE or --acceptor ACCEPTOR_CODE")
        try:
            if options["acceptor"]:
                from cards.services.reference import acceptor_client_create

                client, secret = acceptor_client_create(
                    acceptor_code=options["acceptor"], principal=principal)
            else:
                client, secret = client_create(fixmedins_code=options["fixmedins_code"], principal=principal,
                                               gateway=options["gateway"])
        except DomainError as e:
            raise CommandError(e.detail) from None
        self.stdout.write(json.dumps({"client_id": client.client_id, "secret": secret}))
