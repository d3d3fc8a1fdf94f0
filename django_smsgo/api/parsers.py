"""The API's JSON parser: what the standard one accepts, and a 400 for what it cannot take.

Python's JSON decoder recurses once per nesting level, so ``[[[[…]]]]`` a few
thousand deep raises ``RecursionError``, which would be a 500. No request of
this API nests more than a few levels.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: Deeper than any request of the API needs; far below Python's recursion limit.
MAX_DEPTH = 32


class StrictJSONParser(JSONParser):
    """A JSON body, refused with 400 when it nests deeper than :data:`MAX_DEPTH`."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from None
        if _depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            pending.extend((child, level + 1) for child in item)
    return deepest
