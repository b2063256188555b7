"""``manage.py create_staff USERNAME --admdvs 340000 --role bureau|clearing_staff|card_bureau|card_desk
[--password]``
(spec/operations.md §Commands); prompts for the password when ``--password`` is missing."""
from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_create
from core.errors import DomainError
from core.principals import Principal


class Command(BaseCommand):
    help = "Create a bureau or clearing-house staff user."

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("username")
        parser.add_argument("--admdvs", required=True, help="provincial-level code, e.g. 340000")
        parser.add_argument("--role", required=True,
                            choices=["bureau", "clearing_staff", "card_bureau", "card_desk"])
        parser.add_argument("--password", help="prompted for when missing")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003, ANN201
        password = options["password"]
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("Passwords do not match.")
        principal = Principal(role="clearing_staff", actor="manage.py create_staff")
        try:
            staff_create(username=options["username"], password=password, admdvs=options["admdvs"],
                         role=options["role"], principal=principal)
        except DomainError as e:
            detail = "; ".join(f"{x['field']}: {x['message']}" for x in (e.errors or [])) or e.detail
            raise CommandError(detail) from None
        self.stdout.write(f"created {options['role']} {options['username']} ({options['admdvs']})")
