"""Clearing endpoints under /api/v1 (spec/bureau-api.md). ``…/statement`` and ``…/items`` are routed
by ``bureau.api_urls`` (the same JSON views plus their spreadsheet formats)."""

from django.urls import path, re_path

from clearing.apis import cycles, disputes, items, prefunds

D = r"cycles/(?P<clr_date>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path("cycles", cycles.CycleListApi.as_view(), name="cycles"),
    re_path(rf"^{D}$", cycles.CycleDetailApi.as_view(), name="cycle"),
    re_path(rf"^{D}/head\.json$", cycles.HeadJsonApi.as_view(), name="cycle-head-json"),
    re_path(rf"^{D}/head\.sig$", cycles.HeadSigApi.as_view(), name="cycle-head-sig"),
    re_path(rf"^{D}/statement\.json$", cycles.StatementJsonApi.as_view(), name="cycle-statement-json"),
    re_path(rf"^{D}/statement\.sig$", cycles.StatementSigApi.as_view(), name="cycle-statement-sig"),
    re_path(rf"^{D}/statement/ack$", cycles.StatementAckApi.as_view(), name="cycle-statement-ack"),
    re_path(rf"^{D}/close$", cycles.CycleCloseApi.as_view(), name="cycle-close"),
    re_path(
        rf"^{D}/items/(?P<setl_id>[A-Za-z0-9_-]{{1,30}})/proof$",
        items.ItemProofApi.as_view(),
        name="item-proof",
    ),
    path("keys", items.KeyListApi.as_view(), name="keys"),
    re_path(r"^keys/(?P<key_id>[A-Za-z0-9_.-]{1,30}?)\.pem$", items.KeyPemApi.as_view(), name="key-pem"),
    path("prefunds", prefunds.PrefundListApi.as_view(), name="prefunds"),
    re_path(
        r"^prefunds/(?P<admdvs>\d{6})/deposits$",
        prefunds.PrefundDepositApi.as_view(),
        name="prefund-deposits",
    ),
    re_path(
        r"^prefunds/(?P<admdvs>\d{6})/withdrawals$",
        prefunds.PrefundWithdrawalApi.as_view(),
        name="prefund-withdrawals",
    ),
    path("alerts", prefunds.AlertListApi.as_view(), name="alerts"),
    path("disputes", disputes.DisputeListCreateApi.as_view(), name="disputes"),
    path("disputes/<int:dispute_id>/resolve", disputes.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path(
        "disputes/<int:dispute_id>/escalate", disputes.DisputeEscalateApi.as_view(), name="dispute-escalate"
    ),
]
