"""Request fields that take JSON types as they are, without DRF's lenient coercion.

DRF's fields accept ``0`` for a string, ``"yes"`` for a boolean and ``"5"`` for
an integer. The API speaks JSON only, so a value of the wrong JSON type is a
client bug worth a 400 rather than a guess.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else."""

    default_error_messages = {"invalid": "Not a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, nothing else."""

    default_error_messages = {"invalid": "Not a boolean (true or false)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a boolean, a float or a string)."""

    default_error_messages = {"invalid": "Not an integer."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))
