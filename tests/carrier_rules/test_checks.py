"""The system checks of the carrier rules: each fires on its own mistake, and only there."""

from __future__ import annotations

import pytest

from tests.test_checks import smsgo_check_ids

pytestmark = pytest.mark.django_db


def test_rules_off_by_default_pass() -> None:
    assert smsgo_check_ids() == set()


def test_a_well_configured_project_passes() -> None:
    assert (
        smsgo_check_ids(
            SENDER_TAG="【好物商店】",
            SENDER_TAG_MODE="prefix",
            REGISTERED_LINKS=["shop.example.com", "*.example.tw", "reurl.cc/abc"],
            REGISTERED_NUMBERS=["02-2345-6789", "+886 912 345 678"],
            QUIET_HOURS=[("21:00", "09:00"), ("12:00", "13:00")],
            QUIET_HOURS_SCHEDULED="refuse",
            OPT_OUT_FOOTER=" 退訂回覆STOP",
            CALLBACK_BASE_URL="https://sms.example.com",
            POINTS_BUDGET={"marketing": {"day": 5000, "month": 80000}},
        )
        == set()
    )


@pytest.mark.parametrize("mode", ["require", "prefix"])
def test_a_required_tag_that_is_not_set(mode: str) -> None:
    assert "smsgo.E015" in smsgo_check_ids(SENDER_TAG_MODE=mode)
    assert "smsgo.E015" in smsgo_check_ids(SENDER_TAG_MODE=mode, SENDER_TAG="  ")


def test_an_unknown_tag_mode_or_kind() -> None:
    assert "smsgo.E016" in smsgo_check_ids(SENDER_TAG_MODE="always", SENDER_TAG="【x】")
    assert "smsgo.E016" in smsgo_check_ids(SENDER_TAG_KINDS=["promo"])


def test_a_full_width_sender_name_warns() -> None:
    assert "smsgo.W007" in smsgo_check_ids(SENDER_TAG="【ＥＶＥＲＹ８Ｄ】")
    assert "smsgo.W007" not in smsgo_check_ids(SENDER_TAG="【好物商店】")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REGISTERED_LINKS", "shop.example.com"),  # a string, not a list
        ("REGISTERED_LINKS", ["/path-only"]),
        ("REGISTERED_NUMBERS", ["2345-6789"]),  # no area code
        ("SHORT_LINK_HOSTS", [""]),
        ("LINK_CHECK_KINDS", ["sms"]),
    ],
)
def test_malformed_registered_lists(name: str, value: object) -> None:
    assert "smsgo.E017" in smsgo_check_ids(**{name: value})


@pytest.mark.parametrize(
    "smsgo",
    [
        {"QUIET_HOURS": [("21:00", "21:00")]},
        {"QUIET_HOURS": [("9pm", "9am")]},
        {"QUIET_HOURS": [("00:00", "12:00"), ("12:00", "24:00")]},  # the whole day
        {"QUIET_HOURS_SCHEDULED": "drop"},
    ],
)
def test_malformed_quiet_hours(smsgo: dict[str, object]) -> None:
    assert "smsgo.E018" in smsgo_check_ids(**smsgo)


def test_keywords_shared_by_opt_out_and_opt_in() -> None:
    assert "smsgo.E019" in smsgo_check_ids(OPT_IN_KEYWORDS=["stop"])
    assert "smsgo.E019" in smsgo_check_ids(OPT_IN_KEYWORDS="START")


def test_a_footer_without_replies_warns() -> None:
    assert "smsgo.W008" in smsgo_check_ids(OPT_OUT_FOOTER=" 退訂回覆STOP")
    assert "smsgo.W008" not in smsgo_check_ids(
        OPT_OUT_FOOTER=" 退訂回覆STOP", CALLBACK_BASE_URL="https://sms.example.com"
    )


@pytest.mark.parametrize(
    "smsgo",
    [
        {"POINTS_BUDGET": 5000},
        {"POINTS_BUDGET": {"promo": {"day": 5}}},
        {"POINTS_BUDGET": {"marketing": {"week": 5}}},
        {"POINTS_BUDGET": {"marketing": {"day": -1}}},
        {"POINTS_BUDGET": {"marketing": {"day": "5000"}}},
        {"POINTS_BUDGET_WARNING": 80},
    ],
)
def test_malformed_budget(smsgo: dict[str, object]) -> None:
    assert "smsgo.E020" in smsgo_check_ids(**smsgo)
