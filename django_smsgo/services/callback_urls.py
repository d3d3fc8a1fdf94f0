"""The Phase-Two ``response`` URL and the ``replyurl`` of a batch, and their tokens.

The gateway signs nothing it sends us, so the URLs we give it carry the proof:
a token in the path, ``HMAC-SHA256(CALLBACK_TOKEN, "<kind>:<batch id>")``, cut
to 32 hex characters (128 bits). A URL that leaks from one batch's logs
therefore cannot be used to forge reports for another batch, and the batch id
beside it lets a report be matched to its batch even before the msgid of the
send request has been stored.

The token lives in the path, not the query string, because the gateway appends
``?msgid=…&statuscode=…`` to the URL literally.

Length of ``replyurl`` (the gateway refuses more than 300 characters)::

    len(CALLBACK_BASE_URL)          origin, e.g. "https://sms.example.com" (23)
  + len("/smsgo/reply/")            13, with the app mounted at "smsgo/"
  + up to 19                        batch id (a 64-bit integer)
  + 1 + 32 + 1                      "/", token, "/"
  = len(CALLBACK_BASE_URL) + 66     at most, so the origin may take 234 characters
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from django_smsgo.conf import smsgo_settings
from django_smsgo.models import Batch

CallbackKind = Literal["report", "reply"]

#: Hex characters of the HMAC kept in the URL (128 bits).
TOKEN_LENGTH = 32

#: The gateway's limit on ``replyurl``.
REPLY_URL_MAX_LENGTH = 300

# "/report/<batch id>/<token>/", "/reply/<batch id>/<token>/" or the doctor's
# "/probe/<nonce>/<token>/" anywhere in a path or URL, also percent-encoded as
# it is inside the query string of a send request ("%2Freport%2F12%2F<token>%2F");
# the token is what redaction replaces.
_TOKEN_IN_PATH = re.compile(r"(/(?:report/\d+|reply/\d+|probe/[^/?#&\s]+)/)([^/?#&\s]+)")
_TOKEN_IN_ENCODED_PATH = re.compile(
    r"(%2F(?:report|reply)%2F\d+%2F)((?:(?!%2F)[^/?#&\s])+)", re.IGNORECASE
)


def make_token(kind: CallbackKind, batch_id: int, secret: str | None = None) -> str:
    """Return the path token for ``kind`` URLs of batch ``batch_id``.

    Signed with ``secret``, by default the current ``CALLBACK_TOKEN``; raises
    ``ImproperlyConfigured`` when no secret is configured, since an unsigned
    callback URL would let anyone post reports.
    """
    key = smsgo_settings.CALLBACK_TOKEN if secret is None else secret
    if not key:
        raise ImproperlyConfigured(
            "SMSGO['CALLBACK_TOKEN'] is empty: callback URLs cannot be signed. "
            "Set it to a long random string."
        )
    digest = hmac.new(key.encode(), f"{kind}:{batch_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_LENGTH]


def verify_token(kind: CallbackKind, batch_id: int, token: str) -> bool:
    """Tell whether ``token`` was made for ``kind`` URLs of ``batch_id``.

    Accepts tokens of the current secret and of ``CALLBACK_PREVIOUS_TOKENS``
    (a rotation under way); every comparison is made in constant time, and all
    secrets are tried so the time taken does not tell which one matched.
    """
    secrets = [smsgo_settings.CALLBACK_TOKEN, *smsgo_settings.CALLBACK_PREVIOUS_TOKENS]
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = make_token(kind, batch_id, secret)
        if hmac.compare_digest(expected.encode(), token.encode()):
            matched = True
    return matched


def _callback_url(kind: CallbackKind, batch: Batch | int) -> str | None:
    base = smsgo_settings.CALLBACK_BASE_URL
    if base is None:
        return None
    batch_id = batch if isinstance(batch, int) else batch.pk
    if batch_id is None:
        raise ValueError("A callback URL needs a saved batch (batch.pk is None).")
    path = reverse(
        f"smsgo:{kind}", kwargs={"batch_id": batch_id, "token": make_token(kind, batch_id)}
    )
    return str(base).rstrip("/") + path


def report_url(batch: Batch | int) -> str | None:
    """The Phase-Two ``response`` URL for ``batch``, or None without ``CALLBACK_BASE_URL``.

    ``https://example.com/smsgo/report/<batch id>/<token>/``: no query string,
    so the gateway's appended ``?msgid=…`` is the only one.
    """
    return _callback_url("report", batch)


def reply_url(batch: Batch | int) -> str | None:
    """The ``replyurl`` for ``batch``, or None without ``CALLBACK_BASE_URL``.

    Raises ``ImproperlyConfigured`` when the URL would exceed the gateway's 300
    characters (the configured origin is too long; the system check says so at
    start-up too).
    """
    url = _callback_url("reply", batch)
    if url is not None and len(url) > REPLY_URL_MAX_LENGTH:
        raise ImproperlyConfigured(
            f"The reply URL would be {len(url)} characters long; the gateway accepts at most "
            f"{REPLY_URL_MAX_LENGTH}. Shorten SMSGO['CALLBACK_BASE_URL']."
        )
    return url


def redact(url_or_path: str) -> str:
    """Return ``url_or_path`` with every callback token replaced by ``***``, for logs.

    Also finds tokens in percent-encoded URLs, such as the ``response`` and
    ``replyurl`` parameters inside a logged send request.
    """
    text = _TOKEN_IN_PATH.sub(r"\1***", url_or_path)
    return _TOKEN_IN_ENCODED_PATH.sub(r"\1***", text)
