"""Does ``CALLBACK_BASE_URL`` lead to this site? A signed probe that must land in our database.

:func:`probe_url` makes a one-time URL under the app's URLconf, signed like
the callback URLs (``HMAC-SHA256(CALLBACK_TOKEN, "probe:<nonce>")``). The
view that serves it records the nonce (:func:`record_arrival`). Whoever asked
then looks for the nonce in *its own* database (:func:`arrived`): only a
server that shares this site's database can have written it. So a port that
leads to another server — another project on port 8000, an old deployment —
is caught even when that server answers 200, and so is a proxy that does not
pass the path on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.urls import reverse

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import CallbackProbe
from django_smsgo.services.callback_urls import TOKEN_LENGTH

#: What the probe view answers, so a caller can tell "our view" from any 200.
ANSWER = "smsgo callback probe {nonce}\n"


def new_nonce() -> str:
    """A random, URL-safe nonce for one probe."""
    return secrets.token_hex(16)


def probe_token(nonce: str, secret: str | None = None) -> str:
    """The path token of the probe ``nonce`` (the current ``CALLBACK_TOKEN`` by default)."""
    key = smsgo_settings.CALLBACK_TOKEN if secret is None else secret
    digest = hmac.new(str(key).encode(), f"probe:{nonce}".encode(), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_LENGTH]


def verify(nonce: str, token: str) -> bool:
    """Whether ``token`` signs ``nonce`` with the current or a previous callback secret."""
    matched = False
    for secret in [smsgo_settings.CALLBACK_TOKEN, *smsgo_settings.CALLBACK_PREVIOUS_TOKENS]:
        if secret and hmac.compare_digest(probe_token(nonce, secret).encode(), token.encode()):
            matched = True
    return matched


def probe_url(nonce: str) -> str | None:
    """The probe URL of ``nonce`` through ``CALLBACK_BASE_URL`` (None when it is not set)."""
    base = smsgo_settings.CALLBACK_BASE_URL
    if base is None:
        return None
    path = reverse("smsgo:probe", kwargs={"nonce": nonce, "token": probe_token(nonce)})
    return str(base).rstrip("/") + path


def record_arrival(nonce: str) -> None:
    """Store that the probe ``nonce`` reached this site (a repeated probe is stored once)."""
    # get_or_create: the same probe twice at the same instant stores one row.
    CallbackProbe.objects.get_or_create(nonce=nonce)


def arrived(nonce: str) -> bool:
    """Whether the probe ``nonce`` reached a server that writes to this site's database."""
    return CallbackProbe.objects.filter(nonce=nonce).exists()


def forget(nonce: str) -> None:
    """Delete the probe's row (it has told what it had to)."""
    CallbackProbe.objects.filter(nonce=nonce).delete()
