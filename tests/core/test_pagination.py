"""``core.pagination`` (issue 10 item 7): one module for every list; keyset links that never repeat or
skip a row when rows are added; ``?page=`` still answers the N-th page; one set of limits."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.errors import Invalid
from core.pagination import MAX_PAGE_SIZE, paginate

pytestmark = pytest.mark.django_db


def _get(query: str) -> Request:
    return Request(APIRequestFactory().get("/api/v1/list?" + query))


def _users(n: int, start: int = 0) -> None:
    User.objects.bulk_create([User(username=f"u{i:03}", is_staff=i % 3 == 0)
                              for i in range(start, start + n)])


def _names(page: dict) -> list[str]:
    return [u.username for u in page["results"]]


def _follow(url: str | None, qs) -> tuple[list[str], list[dict]]:  # noqa: ANN001
    names, pages = [], []
    while url:
        page = paginate(_get(url.split("?", 1)[1]), qs)
        names += _names(page)
        pages.append(page)
        url = page["next"]
    return names, pages


def test_following_next_never_repeats_or_skips_when_newer_rows_arrive():
    _users(30)
    newest_first = User.objects.order_by("-id")
    first = paginate(_get("page_size=7"), newest_first)
    assert first["count"] == 30 and _names(first) == [f"u{i:03}" for i in range(29, 22, -1)]
    assert first["previous"] is None and "cursor=" in first["next"] and "page=" not in first["next"]
    second = paginate(_get(first["next"].split("?", 1)[1]), newest_first)
    _users(10, start=30)  # newer than every row listed: page numbers would now shift by 10
    rest, pages = _follow(second["next"], newest_first)
    listed = _names(first) + _names(second) + rest
    assert listed == [f"u{i:03}" for i in range(29, -1, -1)]
    assert pages[-1]["next"] is None and pages[-1]["count"] == 40


def test_previous_walks_back_over_the_same_rows_in_a_mixed_order():
    _users(20)
    qs = User.objects.order_by("is_staff", "-id")  # ascending then descending: a lexicographic key
    everything = [u.username for u in qs]
    forward, pages = _follow("?page_size=6", qs)
    assert forward == everything and len(pages) == 4
    back = paginate(_get(pages[-1]["previous"].split("?", 1)[1]), qs)
    assert _names(back) == everything[12:18]
    back = paginate(_get(back["previous"].split("?", 1)[1]), qs)
    assert _names(back) == everything[6:12]
    first = paginate(_get(back["previous"].split("?", 1)[1]), qs)
    assert _names(first) == everything[:6] and first["previous"] is None


def test_page_numbers_keep_working_and_lists_get_page_links():
    _users(10)
    qs = User.objects.order_by("id")
    assert _names(paginate(_get("page=2&page_size=4"), qs)) == ["u004", "u005", "u006", "u007"]
    assert paginate(_get("page=4&page_size=4"), qs)["results"] == []
    rows = list(range(10))
    page = paginate(_get("page=2&page_size=4&x=1"), rows)
    assert page == {"count": 10, "results": [4, 5, 6, 7],
                    "next": "http://testserver/api/v1/list?x=1&page=3&page_size=4",
                    "previous": "http://testserver/api/v1/list?x=1&page=1&page_size=4"}


@pytest.mark.parametrize(("query", "field"), [
    ("page_size=0", "page_size"), (f"page_size={MAX_PAGE_SIZE + 1}", "page_size"),
    ("page_size=%EF%BC%97", "page_size"),
    ("page=0", "page"), ("page=99999999999999999999", "page"), ("page=-1", "page"),
    ("cursor=", "cursor"), ("cursor=bm90IGpzb24", "cursor"),
    ("cursor=eyJkIjogIm4iLCAiayI6IFsiOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OSJdfQ==", "cursor"),  # id beyond bigint
    ("cursor=eyJkIjogIngiLCAiayI6IFsiMSJdfQ==", "cursor"),  # direction "x"
])
def test_bad_parameters_are_400_naming_them(query, field):  # noqa: ANN001
    with pytest.raises(Invalid) as caught:
        paginate(_get(query), User.objects.order_by("id"))
    assert caught.value.errors[0]["field"] == field


def test_a_list_source_refuses_a_cursor():
    with pytest.raises(Invalid) as caught:
        paginate(_get("cursor=abc"), [1, 2])
    assert caught.value.errors[0] == {"field": "cursor", "code": "invalid",
                                      "message": "this list is paged by ?page="}
