"""Why ``send_otp()`` refused to send: one class per limit, each saying when to try again.

Every refusal is a :class:`CodeRefused` (a ``SmsgoError``); nothing was stored
or sent. ``retry_after`` is the number of seconds until the limit lets a send
through again (``None`` when no wait helps, e.g. a spent monthly budget is
only renewed next month and then counted again).
"""

from __future__ import annotations

from django_smsgo.exceptions import SmsgoError


class CodeRefused(SmsgoError):
    """A code was not sent because a limit says no. ``reason`` is a short stable word."""

    reason = "refused"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = None if retry_after is None else max(0.0, float(retry_after))
        super().__init__(message)


class CooldownActive(CodeRefused):
    """A code went to this number less than ``OTP_COOLDOWN`` seconds ago."""

    reason = "cooldown"

    def __init__(self, cooldown: int, retry_after: float) -> None:
        self.cooldown = cooldown
        super().__init__(
            f"A code was sent to this number less than {cooldown} seconds ago "
            f"(SMSGO['OTP_COOLDOWN']); try again in {max(1, round(retry_after))} s.",
            retry_after=retry_after,
        )


class SendCapReached(CodeRefused):
    """A send cap (per number, per caller key or for the whole site) is used up."""

    reason = "cap"

    def __init__(self, scope: str, limit: int, window: int, retry_after: float) -> None:
        self.scope = scope
        self.limit = limit
        self.window = window
        super().__init__(
            f"The {scope} cap of {limit} codes per {window} s is reached "
            f"(SMSGO['OTP_{scope.upper()}_CAPS']); try again in {max(1, round(retry_after))} s.",
            retry_after=retry_after,
        )


class BudgetExhausted(CodeRefused):
    """The points budget for codes of this day or month is spent."""

    reason = "budget"

    def __init__(self, period: str, budget: int, spent: int, retry_after: float) -> None:
        self.period = period
        self.budget = budget
        self.spent = spent
        setting = "OTP_DAILY_BUDGET" if period == "day" else "OTP_MONTHLY_BUDGET"
        super().__init__(
            f"The points budget for codes of this {period} ({budget} points, "
            f"SMSGO['{setting}']) is spent ({spent} used); no more codes are sent "
            f"until it renews in {max(1, round(retry_after))} s.",
            retry_after=retry_after,
        )
