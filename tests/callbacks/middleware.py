"""Test-only middleware that garbles the first answer to each callback.

It stands for an answer lost or mangled on its way back to the gateway, after
the view has stored the report: the gateway must retry, and the retry must not
change anything a second time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_seen: set[str] = set()
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        _seen.clear()


class GarbleFirstAnswer:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        key = request.get_full_path()
        with _lock:
            first = key not in _seen
            _seen.add(key)
        if first and "/smsgo/" in key:
            return HttpResponse(
                "magicid=tccrd_sms_gateway_rpack\nmsgid=0\n", content_type="text/plain"
            )
        return response
