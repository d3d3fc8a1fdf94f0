"""Keeps the account password, and the vendor's callback URLs, out of log lines.

The gateway only speaks GET, so the password travels in the query string. The
client's transport logs its request line with the password and callback URLs
already masked; this filter is the second line of defence, on the client's own
logger and on urllib3's and requests' (which log whole request lines at DEBUG,
should an application call the gateway with them). The ``response`` and
``replyurl`` parameters are masked too: a vendor's callback URLs usually carry
a secret of their own.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "********"
_SECRET_PARAMS = re.compile(r"((?:password|response|replyurl)=)[^&\s\"']*", re.IGNORECASE)
# Loggers that may write a request URL. A filter attached to a logger only
# sees that logger's own records, so each one is listed.
REDACTED_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "django_smsgo.client",
)


class PasswordFilter(logging.Filter):
    """Masks ``password=``, ``response=`` and ``replyurl=`` parameters and every registered
    password in a record."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def register(self, secret: str) -> None:
        """Mask ``secret`` (and its URL-encoded forms) wherever it appears from now on."""
        if not secret:
            return
        with self._lock:
            self._secrets.update({secret, quote(secret, safe=""), quote_plus(secret)})

    def redact(self, text: str) -> str:
        """``text`` with every password masked."""
        text = _SECRET_PARAMS.sub(r"\1" + MASK, text)
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to logging's own error path
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


_filter = PasswordFilter()
_installed = False
_install_lock = threading.Lock()


def install_redaction(secret: str) -> PasswordFilter:
    """Attach the password filter to every logger that may write a URL, and mask ``secret``."""
    global _installed
    _filter.register(secret)
    with _install_lock:
        if not _installed:
            for name in REDACTED_LOGGERS:
                logging.getLogger(name).addFilter(_filter)
            _installed = True
    return _filter


def redact(text: str) -> str:
    """``text`` with every registered password and secret-bearing parameter masked."""
    return _filter.redact(text)
