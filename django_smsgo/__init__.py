"""Send SMS through the smsgo (簡訊購) gateway from Django.

``from django_smsgo import send_sms, send_mass_sms``. Importing the package
imports no models, so it is safe from settings files and app registries; the
functions are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_smsgo.version import __version__

if TYPE_CHECKING:
    from django_smsgo.services.sending import send_mass_sms, send_sms

__all__ = ["__version__", "outbox", "send_mass_sms", "send_sms"]


def __getattr__(name: str) -> Any:
    if name in ("send_sms", "send_mass_sms"):
        from django_smsgo.services import sending

        return getattr(sending, name)
    if name == "outbox":
        # Send requests the locmem backend received, like ``mail.outbox``.
        from django_smsgo.backends import locmem

        return locmem.outbox
    raise AttributeError(f"module 'django_smsgo' has no attribute {name!r}")
