"""Personal data at rest: no plaintext in encrypted columns; key rotation (spec/security.md)."""
from __future__ import annotations

import base64
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from accounts.models import InstitutionClient, Person
from accounts.selectors import person_certno, person_name
from accounts.services.keys import key_usage
from core.crypto import decrypt
from core.models import AuditRecord

PLAINTEXTS = ["340104198001011234", "示例甲", "A34000001", "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41",
              "34010219900215321X", "示例丙"]


def _ring_with_new_key() -> str:
    return settings.SETTLEMENT_ENCRYPTION_KEYS + ",k9:" + base64.b64encode(b"\x07" * 32).decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_encrypted_columns_hold_no_plaintext_raw_connection(examples, institution_client):
    import psycopg

    signed = institution_client("H31010400001")
    params = connection.get_connection_params()
    conninfo = {k: params[k] for k in ("host", "port", "user", "password", "dbname") if params.get(k)}
    with psycopg.connect(**conninfo) as raw:  # a separate connection: what a dump would see
        rows = raw.execute("SELECT certno_enc, psn_name_enc, card_no_enc, card_sn_enc, certno_bidx, "
                           "card_no_bidx FROM accounts_person").fetchall()
        secrets_ = [r[0] for r in raw.execute("SELECT secret_enc FROM accounts_institutionclient").fetchall()]
    assert len(rows) == 7
    blob = "\n".join(str(v) for row in rows for v in row) + "\n".join(secrets_)
    for plain in PLAINTEXTS + [signed.secret]:
        assert plain not in blob
    assert all(v.startswith("k1:") for row in rows for v in row[:4])
    assert all(s.startswith("k1:") for s in secrets_)


def test_encrypted_columns_hold_no_plaintext_orm(examples):
    values = list(Person.objects.values_list("certno_enc", "psn_name_enc", "card_no_enc", "card_sn_enc"))
    blob = repr(values)
    for plain in PLAINTEXTS:
        assert plain not in blob


def test_rotation_reencrypts_everything_and_retire_refused_while_in_use(examples, institution_client):
    signed = institution_client("H31010400001")
    with override_settings(SETTLEMENT_ENCRYPTION_KEYS=_ring_with_new_key()):
        assert key_usage() == {"k1": 7 * 4 + 1}  # 7 persons × 4 fields + 1 client secret
        with pytest.raises(CommandError, match="refusing to retire k1"):
            call_command("rotate_keys", "--retire", "k1")
        with pytest.raises(CommandError, match="newest"):
            call_command("rotate_keys", "--retire", "k9")
        out = io.StringIO()
        call_command("rotate_keys", "--batch", "3", stdout=out)
        assert "accounts.Person: 7 rows re-encrypted" in out.getvalue()
        assert "accounts.InstitutionClient: 1 rows re-encrypted" in out.getvalue()
        assert key_usage() == {"k9": 29}
        p = Person.objects.get(psn_no="34010000000000000001")
        assert p.certno_enc.startswith("k9:") and person_certno(p) == "340104198001011234"
        assert person_name(p) == "示例甲"
        client = InstitutionClient.objects.get(client_id=signed.client_id)
        assert decrypt(client.secret_enc) == signed.secret
        # resumable/idempotent: a second run has nothing left to do
        out = io.StringIO()
        call_command("rotate_keys", stdout=out)
        assert "rotated 0 values" in out.getvalue()
        out = io.StringIO()
        call_command("rotate_keys", "--retire", "k1", stdout=out)
        assert "may be removed" in out.getvalue()
        assert AuditRecord.objects.filter(action="key_rotation").count() == 2
        assert AuditRecord.objects.filter(action="key_retire", object_id="k1").count() == 1
        # the old key can now go: everything still decrypts with the new ring only
        only_new = "k9:" + base64.b64encode(b"\x07" * 32).decode()
    with override_settings(SETTLEMENT_ENCRYPTION_KEYS=only_new):
        assert person_certno(Person.objects.get(psn_no="34010000000000000003")) == "34010219900215321X"


def test_rotation_resumes_after_partial_run(examples):
    from accounts.services.keys import keys_rotate

    with override_settings(SETTLEMENT_ENCRYPTION_KEYS=_ring_with_new_key()):
        first = keys_rotate(batch=2, max_batches=2)
        assert first.rows["accounts.Person"] == 4
        assert key_usage() == {"k1": 12, "k9": 16}
        rest = keys_rotate(batch=2)
        assert rest.rows["accounts.Person"] == 3
        assert key_usage() == {"k9": 28}
