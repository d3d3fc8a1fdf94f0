"""Personalised sends: placeholders filled per recipient, grouped by final text, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.utils import translation

from django_smsgo.exceptions import (
    ControlCharacterError,
    InvalidNumberError,
    MessageTooLongError,
)
from django_smsgo.models import BalanceSnapshot, Message, Recipient
from django_smsgo.services.carrier_rules import CarrierRuleError
from django_smsgo.services.errors import InsufficientBalanceError
from django_smsgo.services.personalising import (
    MissingPlaceholderValueError,
    PlaceholderSyntaxError,
    UnknownPlaceholderError,
    estimate_personalised,
    group_texts,
    placeholders_of,
    send_personalised,
)
from tests.core.conftest import send_requests

pytestmark = pytest.mark.django_db

STORES = ("Taipei", "Taichung", "Kaohsiung")


def nothing_stored() -> bool:
    return not Message.objects.exists() and not Recipient.objects.exists()


def customers(count: int, stores: tuple[str, ...] = STORES) -> list[tuple[str, dict[str, str]]]:
    return [(f"09{n:08d}", {"Store": stores[n % len(stores)]}) for n in range(count)]


# --- reading placeholders ----------------------------------------------------------------------


def test_placeholders_are_named_once_in_order() -> None:
    assert placeholders_of("Hi {name}, code {code}; bye {name}. {{braces}}") == ("name", "code")
    assert placeholders_of("{姓名} 您好") == ("姓名",)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hi {name", "“{” without its “}”"),
        ("Hi name}", "“}” without its “{”"),
        ("Hi {}", "“{}” has no name"),
        ("Hi {0}", "“{0}” is not a name"),
        ("Hi {user.name}", "“{user.name}” is not a name"),
        ("Hi {name!r}", "“{name!r}” is formatted"),
        ("Hi {name:>10}", "“{name:>10}” is formatted"),
    ],
)
def test_bad_braces_are_a_typed_error_in_words(text: str, words: str) -> None:
    with pytest.raises(PlaceholderSyntaxError) as caught:
        placeholders_of(text)
    assert words in str(caught.value)
    assert "{{" in str(caught.value)  # how to write a brace


def test_syntax_errors_are_worded_in_traditional_chinese() -> None:
    with pytest.raises(PlaceholderSyntaxError) as caught:
        placeholders_of("Hi {name")
    with translation.override("zh-hant"):
        assert "佔位符" in str(caught.value)
        assert "without" not in str(caught.value)


# --- filling in and grouping -------------------------------------------------------------------


def test_recipients_with_the_same_final_text_are_grouped() -> None:
    grouped = group_texts("Your {store} store opens at 9.", customers(120))
    assert [g.body for g in grouped.groups] == [
        f"Your {store} store opens at 9." for store in STORES
    ]
    assert [len(g.numbers) for g in grouped.groups] == [40, 40, 40]


def test_columns_match_placeholders_without_regard_to_case_and_spaces() -> None:
    grouped = group_texts("Hi {NAME}", [("0912345678", {" name ": " Amy "})])
    assert grouped.groups[0].body == "Hi Amy"


def test_a_number_given_twice_keeps_its_first_values() -> None:
    grouped = group_texts(
        "Hi {name}", [("0912-345-678", {"name": "Amy"}), ("+886912345678", {"name": "Bo"})]
    )
    assert [(g.body, g.numbers) for g in grouped.groups] == [("Hi Amy", ("0912345678",))]
    assert grouped.duplicates == 1


def test_an_unknown_placeholder_is_named_with_the_columns_there_are() -> None:
    with pytest.raises(UnknownPlaceholderError) as caught:
        send_personalised("Hi {nmae}", [("0912345678", {"name": "Amy"})], columns=["phone", "name"])
    assert caught.value.placeholder == "nmae"
    assert str(caught.value) == (
        "The placeholder {nmae} is not a column of the file; its columns are phone, name."
    )
    with translation.override("zh-hant"):
        assert "{nmae}" in str(caught.value)
        assert "欄" in str(caught.value)
    assert nothing_stored()


def test_a_recipient_without_a_value_is_named_and_nothing_is_stored() -> None:
    rows = [*customers(5), ("0922333444", {"Store": ""}), ("0933555666", {})]
    with pytest.raises(MissingPlaceholderValueError) as caught:
        send_personalised("Your {store} store opens at 9.", rows)
    assert caught.value.placeholder == "store"
    assert caught.value.numbers == ["0922333444", "0933555666"]
    assert "{store}" in str(caught.value)
    assert "0922333444, 0933555666" in str(caught.value)
    assert nothing_stored()


def test_every_bad_number_is_named_in_one_error() -> None:
    with pytest.raises(InvalidNumberError) as caught:
        send_personalised("Hi {name}", [("12345", {"name": "A"}), ("0912", {"name": "B"})])
    assert [value for value, _reason in caught.value.invalid] == ["12345", "0912"]
    assert nothing_stored()


# --- the filled-in text is validated like any text ---------------------------------------------


def test_a_value_that_makes_one_text_too_long_refuses_the_whole_send() -> None:
    rows = [*customers(10), ("0922333444", {"Store": "x" * 400})]
    with pytest.raises(MessageTooLongError):
        send_personalised("Your {store} store opens at 9.", rows)
    assert nothing_stored()


def test_a_control_character_in_a_value_refuses_the_whole_send() -> None:
    rows = [*customers(3), ("0922333444", {"Store": "Tai\x07pei"})]
    with pytest.raises(ControlCharacterError):
        send_personalised("Your {store} store opens at 9.", rows)
    assert nothing_stored()


def test_the_carrier_rules_judge_each_final_text(configure: Any) -> None:
    configure(SENDER_TAG="【好茶】", SENDER_TAG_MODE="prefix", OPT_OUT_FOOTER=" 退訂回覆STOP")
    with transaction.atomic():
        messages = send_personalised("{store}門市今天九點開門", customers(6), queue=False)
    assert [m.body for m in messages] == [
        f"【好茶】{store}門市今天九點開門 退訂回覆STOP" for store in STORES
    ]


def test_a_carrier_rule_refusing_one_text_refuses_all(configure: Any) -> None:
    configure(SENDER_TAG="【好茶】", SENDER_TAG_MODE="require")
    rows = [("0912345678", {"tag": "【好茶】"}), ("0912345679", {"tag": "【別家】"})]
    with pytest.raises(CarrierRuleError):
        send_personalised("{tag}今天九點開門", rows, kind="transactional")
    assert nothing_stored()


def test_the_balance_is_held_against_all_texts_together() -> None:
    BalanceSnapshot.objects.create(points=100)
    with pytest.raises(InsufficientBalanceError) as caught:
        send_personalised("Your {store} store opens at 9.", customers(120))
    assert caught.value.needed == 120  # 40 each would pass alone
    assert nothing_stored()


# --- stored and sent ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_120_recipients_with_3_texts_share_requests_of_at_most_50(gateway: Any) -> None:
    messages = send_personalised("Your {store} store opens at 9.", customers(120))
    assert len(messages) == 3
    requests = send_requests(gateway)
    by_text: dict[str, list[int]] = {}
    for request in requests:
        numbers = request["params"]["dstaddr"].split(",")
        by_text.setdefault(request["params"]["smbody"], []).append(len(numbers))
    assert by_text == {f"Your {store} store opens at 9.": [40] for store in STORES}
    for message in messages:
        message.refresh_from_db()
        assert message.status == Message.Status.SUBMITTED
        assert message.recipient_count == 40


@pytest.mark.django_db(transaction=True)
def test_more_than_50_with_one_text_are_split_into_requests_of_50(gateway: Any) -> None:
    rows = customers(130, stores=("Taipei", "Taipei", "Tainan"))  # 87 Taipei, 43 Tainan
    send_personalised("Your {store} store opens at 9.", rows)
    sizes: dict[str, list[int]] = {}
    for request in send_requests(gateway):
        sizes.setdefault(request["params"]["smbody"], []).append(
            len(request["params"]["dstaddr"].split(","))
        )
    assert sorted(sizes["Your Taipei store opens at 9."]) == [37, 50]
    assert sizes["Your Tainan store opens at 9."] == [43]
    assert all(size <= 50 for counts in sizes.values() for size in counts)


def test_the_same_key_returns_the_first_messages(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        first = send_personalised("Hi {store}", customers(9), idempotency_key="campaign-7")
        again = send_personalised("Hi {store}", customers(9), idempotency_key="campaign-7")
    assert [m.pk for m in again] == [m.pk for m in first]
    assert Message.objects.count() == 3
    assert sorted(Message.objects.values_list("idempotency_key", flat=True)) == [
        "campaign-7",
        "campaign-7:p2",
        "campaign-7:p3",
    ]


def test_drafts_are_stored_for_the_admin_to_send_later() -> None:
    messages = send_personalised("Hi {store}", customers(6), queue=False)
    assert {m.status for m in messages} == {Message.Status.DRAFT}


# --- the estimate ------------------------------------------------------------------------------


def test_the_estimate_shows_the_longest_text_and_the_whole_cost() -> None:
    rows = [
        ("0912345678", {"name": "Amy"}),
        ("0912345679", {"name": "Amy"}),
        ("0912345670", {"name": "A" * 150}),
        ("bad", {"name": "Bo"}),
    ]
    found = estimate_personalised("Dear {name}, your order has shipped.", rows)
    assert found.texts == 2
    assert found.body == "Dear " + "A" * 150 + ", your order has shipped."
    assert found.characters == len(found.body)
    assert found.segments == 2
    assert found.valid_numbers == 3
    assert found.points == 2 + 2  # two numbers at 1 SMS, one at 2
    assert [value for value, _reason in found.invalid_numbers] == ["bad"]
    assert found.placeholders == ("name",)


def test_the_estimate_says_what_is_wrong_with_a_placeholder_and_never_raises() -> None:
    found = estimate_personalised("Hi {name}", [("0912345678", {})])
    assert found.text_error is not None
    assert "{name}" in found.text_error
    assert found.points == 0
    found = estimate_personalised("Hi {name", [("0912345678", {"name": "A"})])
    assert found.text_error is not None


def test_before_any_recipient_the_estimate_names_the_placeholders_without_an_error() -> None:
    found = estimate_personalised("Hi {name}, code {code}", [])
    assert found.text_error is None
    assert found.placeholders == ("name", "code")
    assert found.characters == len("Hi {name}, code {code}")
    assert found.valid_numbers == 0


def test_the_duplicate_guard_on_one_text_stores_none_of_them(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_smsgo.services.errors import DuplicateMessageError
    from django_smsgo.services.sending import send_sms

    with django_capture_on_commit_callbacks(execute=False):
        send_sms("0912345679", "Hi Bo")
        rows = [("0912345678", {"name": "Amy"}), ("0912345679", {"name": "Bo"})]
        with pytest.raises(DuplicateMessageError) as caught:
            send_personalised("Hi {name}", rows)
    assert caught.value.numbers == ["0912345679"]
    assert list(Message.objects.values_list("body", flat=True)) == ["Hi Bo"]  # no "Hi Amy"
