"""One-time codes by SMS, built for abuse: ``send_otp()`` and ``verify_otp()``.

Add ``"django_smsgo.codes"`` to ``INSTALLED_APPS`` (beside ``"django_smsgo"``)
and migrate. Importing this package loads no models; the two functions are
loaded on first use, so ``from django_smsgo.codes import send_otp`` is safe
anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_smsgo.codes.service import send_otp, verify_otp

__all__ = ["send_otp", "verify_otp"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from django_smsgo.codes import service

        return getattr(service, name)
    raise AttributeError(f"module 'django_smsgo.codes' has no attribute {name!r}")
