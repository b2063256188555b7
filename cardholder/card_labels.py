"""Labels of the cardholder's card pages with the spec/cards.md terms: English source strings,
translated into Chinese by ``locale/zh_Hans`` (the default language), rendered in the request's
language. Codes without a label are shown as they are (a new code never breaks a page)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CARD_STAS = {
    "applied": _("Applied for"),
    "issued": _("Made, not yet activated"),
    "active": _("In use"),
    "temp_lost": _("Temporarily reported lost"),
    "lost": _("Formally reported lost"),
    "cancelled": _("Cancelled"),
}

SVC_TYPE = {"transit_fare": _("Transit fare"), "admission": _("Admission"), "loan": _("Library loan")}

KIND = {"transit": _("Transit"), "scenic": _("Scenic spot"), "library": _("Library"), "museum": _("Museum")}

PAY_SRC = {
    "epurse": _("Electronic purse"),
    "fin_acct": _("Card bank account"),
    "none": _("Free"),
}

BENEFIT = {
    "elder_60_half": _("Same-city treatment: half price from 60"),
    "elder_70_free": _("Same-city treatment: free from 70"),
}

# who moved a card's status (CardStatusChange.role)
ROLE = {
    "cardholder": _("You (online)"),
    "card_bureau": _("Card bureau"),
    "card_desk": _("Service desk"),
    "clearing_staff": _("Clearing house"),
    "system": _("Automatic"),
}

# why (CardStatusChange.reason; a bureau's or desk's own words are shown as they are)
REASON = {
    "opening": _("Card registered"),
    "application": _("Cross-province application"),
    "cardholder": _("Reported by you"),
    "temp_loss_lapsed": _("Temporary loss lapsed"),
    "replaced": _("Replaced by a new card"),
    "lost": _("Lost"),
    "replacement:lost": _("Replacement of a lost card"),
    "replacement:damaged": _("Replacement of a damaged card"),
    "replacement:expiring": _("Replacement of an expiring card"),
    "replacement:info_change": _("Replacement after a change of details"),
}

# receipt check steps of a card use (cardholder.verify step names)
STEP = {
    "inclusion": _("Merkle inclusion proof (RFC 9162)"),
    "head_matches": _("Root matches the signed card cycle head"),
    "signature": _("Ed25519 signature of the card cycle head"),
    "record_matches": _("Leaf matches this use"),
}

# problems the card pages can meet, in the holder's words (spec/cards.md codes)
ERROR_TEXT = {
    "invalid_transition": _("This card cannot be reported lost in its present status."),
    "formal_loss_irreversible": _("A formal loss cannot be undone."),
    "reference_conflict": _("This confirmation was already used for another request; open the page again."),
    "not_found": _("No such card."),
    "invalid": _("The request was not valid; open the page again."),
    "forbidden": _("You may not do this."),
}
