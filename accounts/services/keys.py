"""Re-encryption of personal data under the newest key (spec/security.md §Personal data at rest).

``ENCRYPTED_FIELDS`` lists every encrypted column (``"kid:base64"`` values of ``core.crypto``).
:func:`keys_rotate` re-encrypts, in batches of primary-key order, each row holding a value under
an older key; rows already under the newest key are skipped, so an interrupted run resumes where
it stopped. :func:`key_usage` counts values per key id; :func:`key_retire_check` refuses to retire
a key that still encrypts any value.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q

from core.audit import audit_principal
from core.crypto import current_key_id, decrypt, encrypt, encryption_key_ids, key_id_of
from core.errors import Conflict
from core.pooling import cursor_transaction

logger = logging.getLogger("kuasheng.keys")

# (app_label.ModelName, encrypted fields). Other apps' encrypted columns belong here too.
ENCRYPTED_FIELDS: list[tuple[str, tuple[str, ...]]] = [
    ("accounts.Person", ("certno_enc", "psn_name_enc", "card_no_enc", "card_sn_enc")),
    ("accounts.InstitutionClient", ("secret_enc",)),
]


@dataclass
class RotationReport:
    key_id: str
    rows: Counter = field(default_factory=Counter)  # model label → rows re-encrypted
    values: int = 0


def _stale(fields: tuple[str, ...], kid: str) -> Q:
    return reduce(or_, (Q(**{f"{f}__isnull": False}) & ~Q(**{f"{f}__startswith": f"{kid}:"}) for f in fields))


def _under(fields: tuple[str, ...], kid: str) -> Q:
    return reduce(or_, (Q(**{f"{f}__startswith": f"{kid}:"}) for f in fields))


def keys_rotate(*, batch: int = 1000, principal: Any = None,
                max_batches: int | None = None) -> RotationReport:
    """Re-encrypt every value not under the newest key (``core.crypto.current_key_id``).

    Each batch is one transaction that locks its rows (``select_for_update``) and rewrites only the
    encrypted columns. ``max_batches`` stops early (the next run resumes). Audited
    ``key_rotation`` with the counts. Raises ``core.crypto.KeyError_`` if a value names a key id
    that is not configured."""
    kid = current_key_id()
    report = RotationReport(key_id=kid)
    done = 0
    for label, fields in ENCRYPTED_FIELDS:
        model = apps.get_model(label)
        last_pk: Any = None
        while max_batches is None or done < max_batches:
            with transaction.atomic():
                qs = model.objects.select_for_update().filter(_stale(fields, kid)).order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                rows = list(qs.only("pk", *fields)[:batch])
                if not rows:
                    break
                for row in rows:
                    for f in fields:
                        value = getattr(row, f)
                        if value is not None and key_id_of(value) != kid:
                            setattr(row, f, encrypt(decrypt(value)))
                            report.values += 1
                model.objects.bulk_update(rows, list(fields))
                last_pk = rows[-1].pk
                report.rows[label] += len(rows)
            done += 1
            logger.info("key rotation: %s %d rows re-encrypted so far", label, report.rows[label])
    with transaction.atomic():
        audit_principal(principal, "key_rotation", "encryption_key", kid,
                        detail={"rows": dict(report.rows), "values": report.values})
    return report


def key_usage() -> Counter:
    """How many stored values each key id encrypts (all ``ENCRYPTED_FIELDS``)."""
    usage: Counter = Counter()
    for label, fields in ENCRYPTED_FIELDS:
        model = apps.get_model(label)
        for f in fields:
            values = model.objects.filter(**{f"{f}__isnull": False}).values_list(f, flat=True)
            with cursor_transaction():  # the server-side cursor lives in a transaction (core.pooling)
                for value in values.iterator():
                    usage[key_id_of(value)] += 1
    return usage


def key_retire_check(*, key_id: str, principal: Any = None) -> None:
    """Allow retiring ``key_id`` only when no stored value is encrypted under it and it is not the
    newest key. Raises ``409 key_in_use`` otherwise. Audited ``key_retire`` when allowed (the key
    is then removed from ``SETTLEMENT_ENCRYPTION_KEYS`` by the operator)."""
    if key_id == current_key_id():
        raise Conflict("key_in_use", f"Key {key_id} is the newest key: it encrypts every new value.")
    in_use = 0
    for label, fields in ENCRYPTED_FIELDS:
        in_use += apps.get_model(label).objects.filter(_under(fields, key_id)).count()
    if in_use:
        raise Conflict("key_in_use", f"Key {key_id} still encrypts {in_use} row(s); run rotate_keys first.")
    with transaction.atomic():
        audit_principal(principal, "key_retire", "encryption_key", key_id,
                        detail={"configured": key_id in encryption_key_ids()})
