"""The sender tag and the opt-out line: what they do to a text, and what they cost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from django_smsgo.client.text import (
    LONG_SEGMENT_OTHER,
    SINGLE_LIMIT_ASCII,
    SINGLE_LIMIT_OTHER,
    count_segments,
    fit_encoding,
)
from django_smsgo.services.carrier_rules import (
    CarrierRules,
    Draft,
    SenderTagMissingError,
    apply_rules,
)
from django_smsgo.services.carrier_rules.footer import apply_opt_out_footer
from django_smsgo.services.carrier_rules.sender_tag import apply_sender_tag, has_sender_tag

TAG = "【好物商店】"
NOW = datetime(2025, 11, 3, 4, 0, tzinfo=UTC)  # 12:00 in Taipei


def draft(body: str, kind: str = "marketing") -> Draft:
    return Draft(body=body, kind=kind, now=NOW)


def test_require_refuses_a_text_without_the_tag_naming_it() -> None:
    with pytest.raises(SenderTagMissingError) as caught:
        apply_sender_tag("本週全館八折", tag=TAG, mode="require")
    assert caught.value.rule_code == "sender_tag"
    assert caught.value.setting == "SENDER_TAG"
    assert TAG in str(caught.value)
    assert "SENDER_TAG" in str(caught.value)


def test_require_accepts_the_tag_anywhere() -> None:
    assert apply_sender_tag(f"親愛的{TAG}會員", tag=TAG, mode="require").body == f"親愛的{TAG}會員"


def test_a_full_width_spelling_of_the_tag_is_not_the_tag() -> None:
    assert not has_sender_tag("【ＥＶＥＲＹ８Ｄ】驗證碼 1234", "【EVERY8D】")
    with pytest.raises(SenderTagMissingError):
        apply_sender_tag("【ＥＶＥＲＹ８Ｄ】驗證碼 1234", tag="【EVERY8D】", mode="require")


def test_prefix_puts_the_tag_in_front_once() -> None:
    first = apply_sender_tag("本週全館八折", tag=TAG, mode="prefix")
    assert first.body == TAG + "本週全館八折"
    assert first.added
    again = apply_sender_tag(first.body, tag=TAG, mode="prefix")
    assert again.body == first.body
    assert not again.added


@pytest.mark.parametrize("mode", [None, "require", "prefix"])
def test_no_tag_configured_leaves_the_text_alone(mode: str | None) -> None:
    assert apply_sender_tag("hello", tag="", mode=mode).body == "hello"


def test_off_leaves_the_text_alone_even_with_a_tag() -> None:
    assert apply_sender_tag("hello", tag=TAG, mode=None).body == "hello"


def test_footer_is_appended_as_written_and_only_once() -> None:
    footed = apply_opt_out_footer("全館八折", footer=" 退訂回覆STOP")
    assert footed.body == "全館八折 退訂回覆STOP"
    assert apply_opt_out_footer(footed.body + "\n", footer=" 退訂回覆STOP").added is False


def test_footer_only_on_marketing_texts() -> None:
    rules = CarrierRules(opt_out_footer=" 退訂回覆STOP")
    assert apply_rules(draft("全館八折"), rules).body == "全館八折 退訂回覆STOP"
    assert apply_rules(draft("您的驗證碼 1234", "transactional"), rules).body == "您的驗證碼 1234"


def test_tag_applies_to_the_kinds_configured() -> None:
    rules = CarrierRules(
        sender_tag=TAG, sender_tag_mode="require", sender_tag_kinds=frozenset({"marketing"})
    )
    assert apply_rules(draft("驗證碼 1234", "transactional"), rules).body == "驗證碼 1234"
    with pytest.raises(SenderTagMissingError):
        apply_rules(draft("全館八折"), rules)


def test_tag_then_footer_in_that_order_with_notes() -> None:
    rules = CarrierRules(sender_tag=TAG, sender_tag_mode="prefix", opt_out_footer=" 退訂回覆STOP")
    ruled = apply_rules(draft("全館八折"), rules)
    assert ruled.body == TAG + "全館八折 退訂回覆STOP"
    assert ruled.original_body == "全館八折"
    assert (ruled.tag_added, ruled.footer_added) == (True, True)
    codes = [note.code for note in ruled.notes]
    assert codes == ["sender_tag_added", "opt_out_footer_added"]
    assert all(note.text for note in ruled.notes)


def test_a_text_that_fills_one_sms_takes_two_once_the_tag_is_added() -> None:
    body = "好" * SINGLE_LIMIT_OTHER  # exactly one SMS of non-ASCII text
    assert count_segments(body, fit_encoding(body)) == 1
    ruled = apply_rules(
        draft(body, "transactional"), CarrierRules(sender_tag=TAG, sender_tag_mode="prefix")
    )
    final_encoding = fit_encoding(ruled.body)
    assert final_encoding.is_long
    assert count_segments(ruled.body, final_encoding) == 2


def test_an_ascii_text_that_fills_one_sms_changes_alphabet_and_size_with_a_chinese_footer() -> None:
    body = "A" * SINGLE_LIMIT_ASCII
    assert count_segments(body, fit_encoding(body)) == 1
    ruled = apply_rules(draft(body), CarrierRules(opt_out_footer=" 退訂回覆STOP"))
    # 160 + 9 characters, no longer pure ASCII: 67 per segment.
    assert count_segments(ruled.body, fit_encoding(ruled.body)) == 3


def test_a_long_text_one_character_short_of_a_segment_boundary() -> None:
    body = "好" * (2 * LONG_SEGMENT_OTHER)  # exactly two segments
    assert count_segments(body, fit_encoding(body)) == 2
    ruled = apply_rules(draft(body), CarrierRules(opt_out_footer="T"))
    assert count_segments(ruled.body, fit_encoding(ruled.body)) == 3
