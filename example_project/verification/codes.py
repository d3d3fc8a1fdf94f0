"""One-time codes kept in the session: only a hash of the code is stored.

A code is valid for ``CODE_LIFETIME`` seconds and for ``MAX_ATTEMPTS`` guesses,
so six digits cannot be found by trying them all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings

CODE_LIFETIME = 300
MAX_ATTEMPTS = 5
SESSION_KEY = "verification"


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(1_000_000):06d}"


def _digest(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def remember(session: Any, phone: str, code: str, message_id: int) -> None:
    """Keep what is needed to check ``code`` for ``phone`` later (never the code itself)."""
    session[SESSION_KEY] = {
        "phone": phone,
        "digest": _digest(phone, code),
        "expires": time.time() + CODE_LIFETIME,
        "attempts": 0,
        "message_id": message_id,
    }


def pending(session: Any) -> dict[str, Any] | None:
    """The verification under way in this session, if any."""
    state = session.get(SESSION_KEY)
    return state if isinstance(state, dict) else None


def check(session: Any, code: str) -> str | None:
    """Check a guess; return None when it is right, else the reason it is refused."""
    state = pending(session)
    if state is None:
        return "No code was sent in this session: ask for one first."
    if time.time() > state["expires"]:
        return "The code has expired: ask for a new one."
    if state["attempts"] >= MAX_ATTEMPTS:
        return "Too many wrong codes: ask for a new one."
    state["attempts"] += 1
    session[SESSION_KEY] = state
    if not hmac.compare_digest(state["digest"], _digest(state["phone"], code.strip())):
        return f"Wrong code ({MAX_ATTEMPTS - state['attempts']} tries left)."
    del session[SESSION_KEY]
    return None
