"""``manage.py import_reference DIR`` (spec/operations.md §Commands): loads the CSV files present in
DIR in dependency order through the same importers as the API and prints the counts per file.
Idempotent: importing the same directory twice reports everything ``unchanged``."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import DomainError
from core.imports import rows_from_csv_bytes
from core.principals import Principal

# (file, module, function) in dependency order.
IMPORTERS = [
    ("regions.csv", "accounts.services", "regions_import"),
    ("institutions.csv", "accounts.services", "institutions_import"),
    ("catalogue.csv", "settlement.services.reference", "catalogue_import"),
    ("policies.csv", "settlement.services.reference", "policies_import"),
    ("persons.csv", "accounts.services", "persons_import"),
    ("filings.csv", "accounts.services", "filings_import"),
    ("accumulators.csv", "settlement.services.reference", "accumulators_import"),
    ("prefunds.csv", "clearing.services.prefunds", "prefunds_import"),
    # spec/cards.md: the card half
    ("acceptors.csv", "cards.services.reference", "acceptors_import"),
    ("cards.csv", "cards.services.registry", "cards_import"),
    ("card_benefits.csv", "cards.services.reference", "benefits_import"),
    ("card_prefunds.csv", "cards.services.reference", "card_prefunds_import"),
]


def importer(module: str, name: str):  # noqa: ANN201
    """The importer function, or ``None`` while its module is not written yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


class Command(BaseCommand):
    help = ("Load the reference CSV files present in DIR (regions, institutions, catalogue, policies, "
            "persons, filings, accumulators, prefunds; acceptors, cards, card_benefits, card_prefunds) "
            "and print the counts per file.")

    def add_arguments(self, parser):  # noqa: ANN001, ANN201
        parser.add_argument("directory")

    def handle(self, *args, **options):  # noqa: ANN002, ANN003, ANN201
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        principal = Principal(role="clearing_staff", actor="manage.py import_reference")
        present = [(f, m, n) for f, m, n in IMPORTERS if (directory / f).exists()]
        if not present:
            raise CommandError(f"{directory} holds none of the reference files: "
                               + ", ".join(f for f, _, _ in IMPORTERS))
        # A bar per file on a terminal (persons.csv of a province takes minutes); quiet in logs and pipes.
        bar = tqdm(present, unit="file", desc="importing", disable=not sys.stderr.isatty(), leave=False)
        for filename, module, name in bar:
            bar.set_postfix_str(filename)
            path = directory / filename
            func = importer(module, name)
            if func is None:
                self.stdout.write(f"{filename}: skipped (importer not available)")
                continue
            try:
                result = func(rows=rows_from_csv_bytes(path.read_bytes()), province=None, principal=principal)
            except DomainError as e:
                raise CommandError(f"{filename}: {e.code}: {e.detail}") from None
            self.stdout.write(
                f"{filename}: received={result.received} created={result.created} updated={result.updated} "
                f"unchanged={result.unchanged} rejected={len(result.rejected)}")
            for r in result.rejected:
                self.stdout.write(f"  row {r['row']}: {r['field']} {r['code']}")
