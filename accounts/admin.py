"""Django admin for clearing-house staff (spec/bureau-api.md §Operations, spec/security.md).

Personal data is read-only here and never shown decrypted: persons show their ``psn_no``, codes and
balance only; encrypted columns, blind indexes and token hashes are not displayed. Writes of
personal data go through the bureau API (audited services), not the admin.
"""
from __future__ import annotations

from django.contrib import admin

from accounts.admin_audit import StaffAdminLoginForm
from accounts.models import (
    AccountCredit,
    ApiToken,
    Filing,
    Institution,
    InstitutionClient,
    Person,
    Region,
    StaffProfile,
)
from core.admin_readonly import ReadOnlyAdmin

admin.site.login_form = StaffAdminLoginForm  # the staff lockout, shared with POST /api/v1/auth/token


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("admdvs", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("admdvs", "name")


@admin.register(Institution)
class InstitutionAdmin(ReadOnlyAdmin):
    list_display = ("fixmedins_code", "name", "fixmedins_type", "hosp_lv", "admdvs")
    list_filter = ("fixmedins_type", "hosp_lv")
    search_fields = ("fixmedins_code", "name", "admdvs")


@admin.register(InstitutionClient)
class InstitutionClientAdmin(ReadOnlyAdmin):
    """Clients are created with ``manage.py create_client`` (the secret is shown once there)."""

    list_display = ("client_id", "institution", "created_at", "revoked_at")
    search_fields = ("client_id", "institution__fixmedins_code")
    fields = ("client_id", "institution", "created_at", "revoked_at")


@admin.register(StaffProfile)
class StaffProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "admdvs")
    list_filter = ("role", "admdvs")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """No certno, name or card number, not even masked: use the API (audited) for a person lookup."""

    list_display = ("psn_no", "insutype", "insuplc_admdvs", "psn_insu_stas", "acct_balance", "updated_at")
    list_filter = ("insutype", "psn_insu_stas")
    search_fields = ("psn_no",)
    fields = ("psn_no", "psn_cert_type", "insutype", "insuplc_admdvs", "psn_insu_stas", "acct_balance",
              "created_at", "updated_at")


@admin.register(Filing)
class FilingAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "filing_type", "mdtrtarea_admvs", "begndate", "enddate", "revoked_at",
                    "created_by_settlement")
    list_filter = ("filing_type", "created_by_settlement")
    search_fields = ("person__psn_no",)
    list_select_related = ("person",)


@admin.register(AccountCredit)
class AccountCreditAdmin(ReadOnlyAdmin):
    list_display = ("person", "reference", "amount", "value_date", "balance_after", "created_by",
                    "created_at")
    search_fields = ("person__psn_no", "reference")
    list_select_related = ("person",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "person", "created_at", "expires_at", "revoked_at")
    fields = ("user", "person", "created_at", "expires_at", "revoked_at")
    list_select_related = ("user", "person")
