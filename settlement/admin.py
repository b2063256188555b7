"""Admin for clearing-house staff: reference data editable, settlements read-only (final records)."""

from django.contrib import admin

from settlement.models import Accumulator, CatalogueItem, FeeDetail, Policy, Settlement


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
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
class PolicyAdmin(admin.ModelAdmin):
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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(Accumulator)
class AccumulatorAdmin(ReadOnlyAdmin):
    list_display = ("person", "year", "insutype", "med_type_group", "deductible_used", "fund_paid")
    list_filter = ("year", "insutype", "med_type_group")


class FeeDetailInline(admin.TabularInline):
    model = FeeDetail
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in FeeDetail._meta.fields]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


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
