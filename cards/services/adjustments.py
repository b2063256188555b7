"""The ``acpt_id`` of a card-scheme ``adjustment`` item (spec/cards.md §The card scheme's clearing:
"An upheld dispute's adjustment gets an ``acpt_id`` of the same form, issued when it is resolved").
Registered with :func:`clearing.schemes.register_adjustment_id` in ``CardsConfig.ready``; the
dispute service itself is clearing's (:mod:`clearing.services.disputes`)."""

from __future__ import annotations

import datetime as dt

from clearing.services.cycles import business_day


def adjustment_acpt_id(now: dt.datetime) -> str:
    """A fresh ``acpt_id`` (``CA`` + the Asia/Shanghai date of ``now`` + the day's sequence, the
    sequence acceptances draw from, so ids of one day never collide). Inside the resolving
    transaction."""
    from cards.services.acceptances import _acpt_ids

    (acpt_id,) = _acpt_ids(business_day(now), 1)
    return acpt_id
