"""The live counter's endpoint: the estimate service's figures for the form; nothing stored."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from django_smsgo.models import BalanceSnapshot, Message
from tests.admin.conftest import ESTIMATE


def estimate(client, **data):
    response = client.post(ESTIMATE, data)
    assert response.status_code == 200
    return response.json()


def test_counts_characters_encoding_segments_numbers_and_points(client_as, sender):
    data = estimate(
        client_as(sender), recipients="0912-345-678\n0922 333 444, 12345", body="Hello there"
    )
    assert data["characters"] == 11
    assert data["encoding"] == "ASCII"
    assert data["segments"] == 1
    assert data["numbers"] == 2
    assert data["points"] == 2
    assert data["invalid_count"] == 1
    assert data["invalid"][0]["value"] == "12345"
    assert "12345" in data["numbers_html"]
    assert 'data-counter="points">2<' in data["counter_html"]
    assert Message.objects.count() == 0


def test_chinese_text_picks_big5_and_a_long_one_the_long_encoding(client_as, sender):
    client = client_as(sender)
    short = estimate(client, recipients="0912345678", body="週年慶明天開始")
    assert (short["encoding"], short["segments"], short["points"]) == ("BIG5", 1, 1)
    long = estimate(client, recipients="0912345678", body="週" * 100)
    assert (long["encoding"], long["segments"], long["points"]) == ("LBIG5", 2, 2)


def test_the_reply_surcharge_is_counted(client_as, sender):
    numbers = "\n".join(f"09120000{n:02d}" for n in range(20))
    data = estimate(client_as(sender), recipients=numbers, body="Reply YES", reply="on")
    # The box is disabled without CALLBACK_BASE_URL: no surcharge is promised.
    assert data["points"] == 20


def test_the_reply_surcharge_with_a_callback_address(client_as, sender, settings):
    settings.SMSGO = {**settings.SMSGO, "CALLBACK_BASE_URL": "https://shop.example.com"}
    numbers = "\n".join(f"09120000{n:02d}" for n in range(20))
    data = estimate(client_as(sender), recipients=numbers, body="Reply YES", reply="on")
    assert data["points"] == 22  # 20 SMS + 1 point per 10 SMS


def test_a_text_that_cannot_be_sent_is_explained(client_as, sender):
    data = estimate(client_as(sender), recipients="0912345678", body="中文", encoding="ASCII")
    assert data["text_error"]
    assert data["points"] == 0
    assert escape(data["text_error"]) in data["counter_html"]


def test_an_uploaded_file_is_counted_too(client_as, sender):
    upload = SimpleUploadedFile("list.csv", b"mobile\n0912345678\n0922333444\n")
    data = estimate(client_as(sender), recipients="0933555666", recipients_file=upload, body="Hi")
    assert data["numbers"] == 3


def test_more_than_the_balance_is_flagged(client_as, sender):
    BalanceSnapshot.objects.create(points=1)
    data = estimate(client_as(sender), recipients="0912345678,0922333444", body="Hi")
    assert data["short_of_points"] is True
    assert "More than the balance of 1 points." in data["counter_html"]


def test_only_post_is_answered(client_as, sender):
    assert client_as(sender).get(ESTIMATE).status_code == 405
