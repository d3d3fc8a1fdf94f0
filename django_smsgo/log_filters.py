"""Keep callback tokens out of Django's own logs.

The callback URLs carry a secret token in their path. The app's views never
let Django's request logger see their responses, and every path under the
app's ``report/`` and ``reply/`` prefixes is answered by the app (see
``urls.py``), so no 404 or debug page of Django's shows one. What is left is
the access log of ``runserver`` (the ``django.server`` logger), and a log
line a project writes itself on ``django.request``: :class:`RedactCallbackTokens`
masks the token in every record of those loggers. The app installs it on
both at start-up; gunicorn's and nginx's access logs are outside Django (see
the security page of the documentation).
"""

from __future__ import annotations

import logging

from django_smsgo.services.callback_urls import redact

#: Django's loggers whose records may carry a request path.
REQUEST_LOGGERS = ("django.request", "django.server")


class RedactCallbackTokens(logging.Filter):
    """Replace callback tokens in a record's message and arguments with ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _redacted(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def install() -> None:
    """Add the filter to Django's request loggers, once."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCallbackTokens) for f in logger.filters):
            logger.addFilter(RedactCallbackTokens())
