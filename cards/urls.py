"""Card endpoints (spec/cards.md), under /api/v1/."""

from django.urls import path

from cards.apis import acceptances as acc
from cards.apis import denylist as dl
from cards.apis import me
from cards.apis import registry as reg

CARD_NO = "<str:card_no>"
ACPT_ID = "<str:acpt_id>"

urlpatterns = [
    path("cards", reg.CardListApi.as_view(), name="cards"),
    path("cards/applications", reg.CardApplicationApi.as_view(), name="card-applications"),
    path(f"cards/{CARD_NO}", reg.CardDetailApi.as_view(), name="card-detail"),
    path(f"cards/{CARD_NO}/status", reg.CardStatusApi.as_view(), name="card-status"),
    path(f"cards/{CARD_NO}/replace", reg.CardReplaceApi.as_view(), name="card-replace"),
    path("card-benefits", reg.CardBenefitApi.as_view(), name="card-benefits"),
    path("deny-list", dl.DenyListApi.as_view(), name="deny-list"),
    path("deny-list.json", dl.DenyListJsonApi.as_view(), name="deny-list-json"),
    path("deny-list.sig", dl.DenyListSigApi.as_view(), name="deny-list-sig"),
    path("deny-list/delta", dl.DenyListDeltaApi.as_view(), name="deny-list-delta"),
    path("deny-list/delta.json", dl.DenyListDeltaJsonApi.as_view(), name="deny-list-delta-json"),
    path("deny-list/delta.sig", dl.DenyListDeltaSigApi.as_view(), name="deny-list-delta-sig"),
    path("card-acceptances", acc.AcceptanceCreateApi.as_view(), name="card-acceptances"),
    path("card-acceptances/batch", acc.AcceptanceBatchApi.as_view(), name="card-acceptances-batch"),
    path(f"card-acceptances/{ACPT_ID}", acc.AcceptanceDetailApi.as_view(), name="card-acceptance"),
    path(f"card-acceptances/{ACPT_ID}/reversal", acc.AcceptanceReversalApi.as_view(), name="card-reversal"),
    path("me/cards", me.MyCardsApi.as_view(), name="me-cards"),
    path(f"me/cards/{CARD_NO}/temporary-loss", me.MyTempLossApi.as_view(), name="me-card-temp-loss"),
    path("me/card-usage", me.MyCardUsageApi.as_view(), name="me-card-usage"),
    path(f"me/card-usage/{ACPT_ID}/receipt", me.MyCardReceiptApi.as_view(), name="me-card-receipt"),
]
