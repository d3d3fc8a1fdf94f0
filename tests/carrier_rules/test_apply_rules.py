"""The entry point: the rules together, in order, from the settings, in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from django_smsgo.exceptions import SmsgoValidationError
from django_smsgo.services.carrier_rules import (
    CarrierRules,
    Draft,
    QuietHoursError,
    SenderTagMissingError,
    UnregisteredLinkError,
    UnregisteredNumberError,
    apply_rules,
    preview_rules,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOON = datetime(2025, 11, 3, 12, 0, tzinfo=TAIPEI)
NIGHT = datetime(2025, 11, 3, 22, 0, tzinfo=TAIPEI)


def test_every_rule_off_changes_nothing() -> None:
    ruled = apply_rules(
        Draft("看 bit.ly/x 或撥 0912345678", "marketing", now=NIGHT), CarrierRules()
    )
    assert ruled.body == "看 bit.ly/x 或撥 0912345678"
    assert ruled.send_at is None
    assert not ruled.held
    assert ruled.notes == ()
    assert [link.host for link in ruled.links] == ["bit.ly"]
    assert [n.number for n in ruled.numbers] == ["0912345678"]


def test_the_footer_is_checked_for_links_and_numbers_too() -> None:
    rules = CarrierRules(opt_out_footer=" 退訂請撥 0800-000-123", registered_numbers=())
    with pytest.raises(UnregisteredNumberError) as caught:
        apply_rules(Draft("全館八折", "marketing", now=NOON), rules)
    assert caught.value.number == "0800000123"


def test_the_wap_push_url_is_checked() -> None:
    rules = CarrierRules(registered_links=("shop.example.com",))
    with pytest.raises(UnregisteredLinkError):
        apply_rules(Draft("新品", "marketing", now=NOON, wap_url="https://evil.example/"), rules)
    apply_rules(Draft("新品", "marketing", now=NOON, wap_url="https://shop.example.com/"), rules)


def test_link_checks_apply_to_the_kinds_configured() -> None:
    rules = CarrierRules(registered_links=(), link_check_kinds=frozenset({"marketing"}))
    apply_rules(Draft("查詢 shop.tw/order", "transactional", now=NOON), rules)
    with pytest.raises(UnregisteredLinkError):
        apply_rules(Draft("查詢 shop.tw/order", "marketing", now=NOON), rules)


def test_preview_lists_every_refusal_and_still_shapes_the_text() -> None:
    rules = CarrierRules(
        sender_tag="【好物】",
        sender_tag_mode="require",
        registered_links=(),
        registered_numbers=(),
        opt_out_footer=" 退訂回覆STOP",
    )
    preview = preview_rules(Draft("看 bit.ly/x 撥 0912345678", "marketing", now=NOON), rules)
    assert not preview.allowed
    assert [p.rule_code for p in preview.problems] == ["sender_tag", "links", "numbers"]
    assert preview.ruled.body.endswith(" 退訂回覆STOP")
    with pytest.raises(SenderTagMissingError):
        apply_rules(Draft("看 bit.ly/x 撥 0912345678", "marketing", now=NOON), rules)


def test_errors_are_validation_errors_with_data_for_an_api() -> None:
    rules = CarrierRules(registered_links=())
    with pytest.raises(SmsgoValidationError) as caught:
        apply_rules(Draft("看 bit[.]ly/x", "marketing", now=NOON), rules)
    answer = caught.value.as_dict()  # type: ignore[attr-defined]
    assert answer["rule"] == "links"
    assert answer["setting"] == "REGISTERED_LINKS"
    assert answer["value"] == "bit.ly/x"
    assert "bit[.]ly/x" in answer["detail"]


def test_refusals_and_notes_are_worded_in_the_reader_language() -> None:
    rules = CarrierRules(sender_tag="【好物】", sender_tag_mode="require")
    with pytest.raises(SenderTagMissingError) as caught:
        apply_rules(Draft("全館八折", "marketing", now=NOON), rules)
    with translation.override("zh-hant"):
        assert "未標示發送者" in str(caught.value)
    with translation.override("en"):
        assert "does not name the sender" in str(caught.value)
    held = apply_rules(
        Draft("全館八折", "marketing", now=NIGHT),
        CarrierRules(quiet_hours=_night()),
    )
    with translation.override("zh-hant"):
        assert "靜音時段" in held.notes[0].text
    assert held.notes[0].as_dict()["params"]["send_at"] == "2025-11-04T09:00:00+08:00"


def test_rules_come_from_the_settings(configure: Callable[..., None]) -> None:
    configure(
        SENDER_TAG="【好物】",
        SENDER_TAG_MODE="prefix",
        QUIET_HOURS=[("21:00", "09:00")],
        QUIET_HOURS_SCHEDULED="refuse",
        OPT_OUT_FOOTER=" 退訂回覆STOP",
    )
    ruled = apply_rules(Draft("全館八折", "marketing", now=NIGHT))
    assert ruled.body == "【好物】全館八折 退訂回覆STOP"
    assert ruled.send_at == datetime(2025, 11, 4, 9, 0, tzinfo=TAIPEI)
    with pytest.raises(QuietHoursError):
        apply_rules(Draft("全館八折", "marketing", now=NOON, send_at=NIGHT))


def _night() -> tuple:  # type: ignore[type-arg]
    from django_smsgo.services.carrier_rules.quiet_hours import parse_quiet_hours

    return parse_quiet_hours([("21:00", "09:00")])
