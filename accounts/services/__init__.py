"""Writes of accounts data (services). Import from here; modules split by subdomain."""
from accounts.services.access import (
    client_create,
    client_revoke,
    staff_authenticate,
    staff_create,
    staff_token_issue,
)
from accounts.services.credits import account_credit_create
from accounts.services.filings import filing_create, filing_revoke, filings_import
from accounts.services.persons import persons_import
from accounts.services.regions import institutions_import, regions_import

__all__ = [
    "account_credit_create", "client_create", "client_revoke", "filing_create", "filing_revoke",
    "filings_import",
    "institutions_import", "persons_import", "regions_import", "staff_authenticate", "staff_create",
    "staff_token_issue",
]
