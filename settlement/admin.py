"""Admin for clearing-house staff: catalogue, policies, accumulators and settlements, all read-only
(issue 10 §1). Catalogue and policies change only through the bureau uploads
(``settlement.services.reference``), which version them by date and audit each upload; editing a
policy row in place would change what past and future bills pay with no trace."""

from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin, ReadOnlyInline
from settlement.models import Accumulator, CatalogueItem, FeeDetail, Policy, Settlement


@admin.register(CatalogueItem)
class CatalogueItemAdmin(ReadOnlyAdmin):
    list_display = (
        "admdvs",
        "med_list_codg",
        "med_list_name",
        "chrgitm_lv",
        "selfpay_prop",
        "pric_uplmt_amt",
        "begndate",
        "enddate",
    )
    list_filter = ("admdvs", "chrgitm_lv")
    search_fields = ("med_list_codg", "med_list_name")


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = (
        "insuplc_admdvs",
        "insutype",
        "med_type_group",
        "hosp_lv",
        "deductible",
        "deductible_basis",
        "pool_prop",
        "annual_cap",
        "temp_prop_reduction",
        "begndate",
        "enddate",
    )
    list_filter = ("insuplc_admdvs", "insutype", "med_type_group")


@admin.register(Accumulator)
class AccumulatorAdmin(ReadOnlyAdmin):
    list_display = ("person", "year", "insutype", "med_type_group", "deductible_used", "fund_paid")
    list_filter = ("year", "insutype", "med_type_group")


class FeeDetailInline(ReadOnlyInline):
    model = FeeDetail
    readonly_fields = [f.name for f in FeeDetail._meta.fields]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = (
        "setl_id",
        "institution",
        "medins_setl_id",
        "status",
        "medfee_sumamt",
        "clr_amt",
        "setl_time",
        "clr_date",
    )
    list_filter = ("status", "clr_date", "clr_type")
    search_fields = ("setl_id", "medins_setl_id")
    inlines = [FeeDetailInline]
