"""An estimate and the send that follows agree on encoding, segments and points, always."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_smsgo.exceptions import SmsgoValidationError
from django_smsgo.services.estimates import estimate
from django_smsgo.services.sending import plan_send

pytestmark = pytest.mark.django_db

LINK = "https://shop.example.tw/sale"


def test_a_link_without_an_encoding_is_estimated_as_the_push_it_sends() -> None:
    plan = plan_send(["0912345678"], "Sale today", wap_url=LINK)
    result = estimate(["0912345678"], "Sale today", wap_url=LINK)
    assert plan.encoding == "PUSH"
    assert (result.encoding, result.segments, result.points) == (
        plan.encoding,
        plan.segments,
        plan.estimated_points,
    )


ALPHABET = st.sampled_from(list("aZ9 .,!?") + list("您好簡訊測試") + ["😀", "Ａ", "１", "\n"])
ENCODINGS = st.sampled_from([None, "ASCII", "BIG5", "UCS2", "LBIG5", "LASCI", "LUCS2", "PUSH"])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(ALPHABET, min_size=1, max_size=340),
    encoding=ENCODINGS,
    with_link=st.booleans(),
    reply=st.booleans(),
    count=st.integers(min_value=1, max_value=120),
)
def test_estimate_and_send_agree(
    configure: Any, body: str, encoding: str | None, with_link: bool, reply: bool, count: int
) -> None:
    configure(CALLBACK_BASE_URL="https://sms.example.tw")
    numbers = [f"0912{n:06d}" for n in range(count)]
    wap_url = LINK if with_link else None
    options: dict[str, Any] = {"encoding": encoding, "reply": reply, "wap_url": wap_url}
    result = estimate(numbers, body, **options)
    if result.text_error is not None:
        with pytest.raises(SmsgoValidationError):  # what the estimate calls unsendable is
            plan_send(numbers, body, **options)
        return
    try:
        plan = plan_send(numbers, body, **options)
    except SmsgoValidationError:
        # An option the estimate does not judge (a link with a non-PUSH
        # encoding, replies with PUSH…) may still refuse the send.
        return
    assert (result.encoding, result.segments, result.points) == (
        plan.encoding,
        plan.segments,
        plan.estimated_points,
    )
