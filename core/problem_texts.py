"""Localized texts of problem+json documents (docs/decisions.md §Languages).

``title`` is the HTTP status's title in the request's language. ``detail``: in English the
specific sentence the code raised (it may name ids and limits); in any other language (zh-hans,
the default) the translated sentence of the stable ``code`` below, since the raised sentences are
English. A code without an entry keeps its raised sentence run through the catalogue.
``errors[].message`` of ``400 invalid`` follows the same rule with :data:`FIELD_TEXTS` (DRF's own
validation messages are translated by DRF). ``tests/core/test_problem_language.py`` fails when a
code raised anywhere in the code has no entry.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TITLES = {
    400: _("Bad Request"),
    401: _("Unauthorized"),
    403: _("Forbidden"),
    404: _("Not Found"),
    405: _("Method Not Allowed"),
    406: _("Not Acceptable"),
    409: _("Conflict"),
    413: _("Content Too Large"),
    415: _("Unsupported Media Type"),
    422: _("Unprocessable Content"),
    429: _("Too Many Requests"),
    500: _("Internal Server Error"),
    503: _("Service Unavailable"),
}

CODE_TEXTS = {
    # platform
    "invalid": _("The request is not valid."),
    "not_found": _("Not found."),
    "forbidden": _("You may not do this."),
    "not_authenticated": _("Authentication credentials were not provided."),
    "authentication_failed": _("Incorrect authentication credentials."),
    "method_not_allowed": _("This method is not allowed here."),
    "not_acceptable": _("No acceptable representation."),
    "unsupported_media_type": _("Unsupported media type of the body."),
    "throttled": _("Too many requests; retry later."),
    "body_too_large": _("The request body is too large."),
    "server_error": _("Internal server error."),
    "service_unavailable": _("A backing service is unavailable; retry later."),
    "unknown_client": _("No such client."),
    "revoked_client": _("This client has been revoked."),
    "stale_timestamp": _("X-Timestamp is missing or too far from server time."),
    "bad_signature": _("The request signature is malformed or does not match."),
    "replayed_nonce": _("This nonce was already used."),
    "invalid_token": _("The token is unknown, expired or revoked."),
    "invalid_credentials": _("Wrong username or password."),
    "too_many_attempts": _("Too many failed attempts; retry later."),
    "too_many_rows": _("Too many rows for this format."),
    # accounts
    "unknown_institution": _("No such institution."),
    "username_taken": _("This username is taken."),
    "key_in_use": _("The key still protects stored data."),
    "reference_conflict": _("This reference was used with different content."),
    "concurrent_upload": _("Another upload of this data is running; retry later."),
    "activation_failed": _("Activation failed: the certificate or card number does not match."),
    "already_active": _("This login is already activated."),
    "wrong_password": _("The current password is wrong."),
    "balance_overflow": _("The account balance would leave the money format."),
    # settlement
    "unknown_person": _("No insured person with this credential."),
    "unsupported_cert_type": _("This credential type is not supported."),
    "name_mismatch": _("The name does not match the insured person."),
    "insutype_mismatch": _("The insurance type does not match the insured person."),
    "not_insured": _("The person is not insured (suspended or terminated)."),
    "not_out_of_area": _("The treatment place is in the insured place: not a cross-province settlement."),
    "no_filing": _("No valid filing (备案) for this treatment."),
    "filing_ended": _("The filing has ended."),
    "no_policy": _("No policy of the insured place covers this settlement."),
    "no_personal_account": _("This insurance type has no personal account."),
    "amount_mismatch": _("A fee line's amount is not its count times its price."),
    "accumulator_overflow": _("An accumulator would leave the money format."),
    "medins_setl_id_conflict": _("This medins_setl_id was used for a different settlement."),
    "already_reversed": _("The settlement is already reversed."),
    "not_reversible": _("This settlement cannot be reversed."),
    "disputed": _("The settlement is under dispute."),
    "amount_out_of_range": _("An amount would leave the money format."),
    "item_failed": _("This item failed; nothing was recorded for it. Retry it."),
    # clearing
    "cycle_not_closed": _("The cycle is not closed yet."),
    "cycle_not_open": _("The cycle is not open."),
    "previous_cycle_open": _("An earlier cycle is not closed yet."),
    "not_yet_cleared": _("The item's cycle is not closed yet."),
    "insufficient_prefund": _("The prefund balance is too low for this withdrawal."),
    "already_disputed": _("This item is already disputed."),
    "not_disputable": _("This item cannot be disputed."),
    "dispute_window_closed": _("The dispute window of this item has closed."),
    "dispute_closed": _("The dispute is closed."),
    "amount_exceeds_clr_amt": _("The amount exceeds the item's clearing amount."),
    "amount_exceeds_disputed": _("The amount exceeds the disputed amount."),
    "already_revoked": _("Already revoked."),
}

FIELD_TEXTS = {
    "invalid": _("This value is not valid."),
    "required": _("This field is required."),
    "encoding": _("The text is not valid UTF-8."),
    "parse_error": _("The body is not valid JSON."),
    "too_deep": _("The body is nested too deeply."),
    "not_a_list": _("A list is required."),
    "not_an_object": _("An object is required."),
    "invalid_amount": _("Not a money amount with exactly 2 decimal places."),
    "invalid_certno": _("Not a valid certificate number (GB 11643)."),
    "invalid_choice": _("Not one of the allowed values."),
    "invalid_count": _("Not a valid count."),
    "invalid_date": _("Not a valid date (YYYY-MM-DD)."),
    "invalid_year": _("Not a valid year."),
    "before_begndate": _("The end date is before the begin date."),
    "length": _("The text is too long."),
    "not_positive": _("Must be greater than zero."),
    "out_of_range": _("Out of the allowed range."),
    "password_length": _("The password is too short or too long."),
    "weak_password": _("The password is too weak."),
    "too_many_rows": _("Too many rows."),
    "total_too_large": _("The total is too large."),
    "unknown_region": _("Unknown region code."),
    "unstorable_value": _("The value cannot be stored."),
    "duplicate_key": _("A key or column name appears twice."),
    "not_a_number": _("NaN and Infinity are not numbers."),
    "unknown_field": _("Unknown field."),
    "invalid_character": _("Must not contain control characters (such as U+0000)."),
}
