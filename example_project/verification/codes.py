"""What the verification pages keep in the session: the number and the message, never the code.

The code itself is ``send_otp()``'s business: it stores only a keyed hash,
counts the tries and lets it expire (``SMSGO['OTP_*']``).
"""

from __future__ import annotations

from typing import Any

SESSION_KEY = "verification"


def remember(session: Any, phone: str, message_id: int) -> None:
    """Keep the number a code was sent to, and its message (to show the SMS's status)."""
    session[SESSION_KEY] = {"phone": phone, "message_id": message_id}


def pending(session: Any) -> dict[str, Any] | None:
    """The verification under way in this session, if any."""
    state = session.get(SESSION_KEY)
    return state if isinstance(state, dict) else None


def forget(session: Any) -> None:
    session.pop(SESSION_KEY, None)
