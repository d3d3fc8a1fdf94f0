"""GET messages/, messages/{id}/ and messages/{id}/recipients/: visibility, filters, pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from django_smsgo.models import Message

from .conftest import API
from .factories import stored_message

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_sender_sees_only_their_own_messages(make_user: Any, client_for: Any) -> None:
    alice, bob = make_user("send_sms"), make_user("send_sms")
    mine = stored_message("0912345678", created_by=alice)
    stored_message("0912345679", created_by=bob)

    response = client_for(alice).get(f"{API}messages/")

    assert response.status_code == 200
    assert ids(response) == [mine.pk]


def test_staff_with_view_permission_see_every_message(make_user: Any, client_for: Any) -> None:
    staff = make_user("view_message", staff=True)
    first = stored_message("0912345678")
    second = stored_message("0912345679", created_by=make_user())

    response = client_for(staff).get(f"{API}messages/")

    assert ids(response) == [second.pk, first.pk]


def test_view_permission_without_staff_status_sees_only_own(
    make_user: Any, client_for: Any
) -> None:
    viewer = make_user("view_message")
    stored_message("0912345678")

    assert ids(client_for(viewer).get(f"{API}messages/")) == []


def test_someone_elses_message_is_not_found(make_user: Any, client_for: Any) -> None:
    alice, bob = make_user("send_sms"), make_user("send_sms")
    message = stored_message("0912345678", created_by=bob)

    assert client_for(alice).get(f"{API}messages/{message.pk}/").status_code == 404
    assert client_for(bob).get(f"{API}messages/{message.pk}/").status_code == 200


@pytest.mark.parametrize("path", ["messages/", "messages/1/", "messages/1/recipients/", "balance/"])
def test_reading_needs_a_permission(make_user: Any, client_for: Any, path: str) -> None:
    stored_message("0912345678")
    nobody = make_user()

    assert client_for(None).get(API + path).status_code in (401, 403)
    assert client_for(nobody).get(API + path).status_code == 403


def test_the_queryset_hook_setting_replaces_the_rule(
    make_user: Any, client_for: Any, settings: Any
) -> None:
    settings.SMSGO = {
        **settings.SMSGO,
        "API_MESSAGE_QUERYSET": "tests.api.hooks.high_priority_only",
    }
    user = make_user("send_sms")
    urgent = stored_message("0912345678", priority=Message.Priority.HIGH)
    stored_message("0912345679", created_by=user)

    assert ids(client_for(user).get(f"{API}messages/")) == [urgent.pk]


def test_detail_has_recipients_with_their_reports(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    message = stored_message("0912345678", "0987654321", created_by=user)

    body = client_for(user).get(f"{API}messages/{message.pk}/").json()

    assert body["id"] == message.pk
    assert body["body"] == "Your code is 1234"
    page = body["recipients"]
    assert [r["phone"] for r in page["results"]] == ["0912345678", "0987654321"]
    assert page["next"] is None
    first = page["results"][0]
    assert first["status"] == "delivered"
    assert first["msgid"] == message.batches.get().msgid
    assert [(r["statusstr"], r["source"]) for r in first["reports"]] == [("DELIVRD", "poll")]


def test_recipients_come_in_pages_followed_by_next(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    phones = [f"09123450{n:02d}" for n in range(7)]
    message = stored_message(*phones, created_by=user)
    client = client_for(user)

    detail = client.get(f"{API}messages/{message.pk}/?page_size=3").json()
    seen = [r["phone"] for r in detail["recipients"]["results"]]
    next_url = detail["recipients"]["next"]
    assert f"/smsgo/api/messages/{message.pk}/recipients/" in next_url
    while next_url:
        page = client.get(next_url).json()
        assert len(page["results"]) <= 3  # the page size is kept
        seen += [r["phone"] for r in page["results"]]
        next_url = page["next"]

    assert seen == phones


def test_reading_a_page_of_recipients_takes_a_fixed_number_of_queries(
    make_user: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    user = make_user("send_sms")
    message = stored_message(*[f"09123450{n:02d}" for n in range(40)], created_by=user)
    client = client_for(user)

    # user + permissions, message, recipients with batches, reports.
    with django_assert_max_num_queries(8):
        response = client.get(f"{API}messages/{message.pk}/recipients/")
    assert len(response.json()["results"]) == 40


def test_the_message_list_pages_with_a_cursor(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    messages = [stored_message("0912345678", created_by=user) for _ in range(5)]
    client = client_for(user)

    first = client.get(f"{API}messages/?page_size=2").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    newest_first = [m.pk for m in reversed(messages)]
    assert [row["id"] for row in first["results"] + second["results"] + third["results"]] == (
        newest_first
    )
    assert third["next"] is None
    assert "cursor=" in first["next"]


def test_a_forged_cursor_is_refused(make_user: Any, client_for: Any) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/?cursor=not-base64!")

    assert response.status_code == 404


def test_filter_by_status(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    failed = stored_message("0912345678", status=Message.Status.FAILED, created_by=user)
    queued = stored_message("0912345678", status=Message.Status.QUEUED, created_by=user)
    stored_message("0912345678", status=Message.Status.COMPLETED, created_by=user)
    client = client_for(user)

    assert ids(client.get(f"{API}messages/?status=failed")) == [failed.pk]
    assert ids(client.get(f"{API}messages/?status=failed,queued")) == [queued.pk, failed.pk]
    assert ids(client.get(f"{API}messages/?status=failed&status=queued")) == [queued.pk, failed.pk]


def test_an_unknown_status_is_named_in_the_error(make_user: Any, client_for: Any) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/?status=failed,lost")

    assert response.status_code == 400
    assert "'lost' is not a message status" in response.json()["status"][0]


def test_filter_by_creation_date_range(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    old = stored_message("0912345678", created_by=user)
    new = stored_message("0912345678", created_by=user)
    moment = timezone.now()
    Message.objects.filter(pk=old.pk).update(created_at=moment - dt.timedelta(days=3))
    client = client_for(user)
    cut = (moment - dt.timedelta(days=1)).isoformat()

    after = client.get(f"{API}messages/", {"created_after": cut})
    before = client.get(f"{API}messages/", {"created_before": cut})
    two_days_ago = timezone.localdate(moment) - dt.timedelta(days=2)
    by_date = client.get(f"{API}messages/", {"created_before": str(two_days_ago)})

    assert ids(after) == [new.pk]
    assert ids(before) == [old.pk]
    assert ids(by_date) == [old.pk]


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-01-01T25:00"])
def test_a_bad_date_is_named_in_the_error(make_user: Any, client_for: Any, value: str) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/", {"created_after": value})

    assert response.status_code == 400
    assert repr(value) in response.json()["created_after"][0]


def test_filter_by_number_in_any_written_form(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    wanted = stored_message("0912345678", "0987654321", created_by=user)
    stored_message("0987654321", created_by=user)
    client = client_for(user)

    assert ids(client.get(f"{API}messages/", {"phone": "0912-345-678"})) == [wanted.pk]
    assert ids(client.get(f"{API}messages/", {"phone": "+886 912 345 678"})) == [wanted.pk]


def test_a_bad_number_filter_is_refused(make_user: Any, client_for: Any) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/", {"phone": "12ab"})

    assert response.status_code == 400
    assert "phone" in response.json()


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1"])
def test_a_malformed_id_is_not_found(make_user: Any, client_for: Any, pk: str) -> None:
    assert client_for(make_user("send_sms")).get(f"{API}messages/{pk}/").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["page_size=0", "page_size=abc", "page_size=1&page_size=2", "status=", "created_before="],
)
def test_malformed_query_parameters_are_refused(
    make_user: Any, client_for: Any, query: str
) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_a_page_size_over_the_maximum_is_lowered(make_user: Any, client_for: Any) -> None:
    user = make_user("send_sms")
    for _ in range(3):
        stored_message("0912345678", created_by=user)

    response = client_for(user).get(f"{API}messages/?page_size=100000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize("pk", ["0.5", "%C2%84"])
def test_a_malformed_id_gets_the_apis_json_404(make_user: Any, client_for: Any, pk: str) -> None:
    response = client_for(make_user("send_sms")).get(f"{API}messages/{pk}/recipients/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
