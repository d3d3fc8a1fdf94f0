"""verify_otp(): the newest code, once, before it expires, within the attempts allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models import F

from django_smsgo.codes import send_otp, verify_otp
from django_smsgo.codes.models import OneTimeCode
from django_smsgo.codes.service import CheckResult
from django_smsgo.simulator.instance import Simulator

from .conftest import code_in

pytestmark = pytest.mark.django_db


def sent_code(phone: str = "0912345678", **kwargs: object) -> str:
    return code_in(send_otp(phone, **kwargs).message.body)


def test_the_right_code_is_accepted_once(code_gateway: Simulator) -> None:
    code = sent_code()
    check = verify_otp("+886 912 345 678", code)
    assert check
    assert check.result is CheckResult.VERIFIED
    again = verify_otp("0912345678", code)
    assert not again
    assert again.result is CheckResult.NONE_PENDING
    assert OneTimeCode.objects.get().verified_at is not None


def test_a_wrong_code_says_how_many_tries_are_left(code_gateway: Simulator) -> None:
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    check = verify_otp("0912345678", wrong)
    assert not check
    assert (check.result, check.attempts_left) == (CheckResult.WRONG, 4)
    assert verify_otp("0912345678", f" {code} ")  # spaces around are forgiven


def test_the_attempts_run_out_even_for_the_right_code(code_gateway: Simulator) -> None:
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        assert verify_otp("0912345678", wrong).attempts_left == left
    check = verify_otp("0912345678", code)
    assert check.result is CheckResult.TOO_MANY_ATTEMPTS
    assert OneTimeCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(code_gateway: Simulator) -> None:
    code = sent_code()
    OneTimeCode.objects.update(expires_at=F("created_at") - timedelta(seconds=1))
    assert verify_otp("0912345678", code).result is CheckResult.EXPIRED


def test_only_the_newest_code_counts(
    code_gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(OTP_COOLDOWN=0)
    first = sent_code()
    second = sent_code()
    if first != second:
        assert verify_otp("0912345678", first).result is CheckResult.WRONG
    assert verify_otp("0912345678", second)


def test_purposes_are_kept_apart(code_gateway: Simulator, configure: Callable[..., None]) -> None:
    configure(OTP_COOLDOWN=0)
    code = sent_code(purpose="signup")
    assert verify_otp("0912345678", code).result is CheckResult.NONE_PENDING
    assert verify_otp("0912345678", code, purpose="signup")


def test_no_code_sent_is_none_pending(code_gateway: Simulator) -> None:
    assert verify_otp("0912345678", "123456").result is CheckResult.NONE_PENDING
