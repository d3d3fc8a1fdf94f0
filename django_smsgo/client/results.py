"""What the gateway answered, as typed, immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django_smsgo.client.statuses import is_delivered


@dataclass(frozen=True)
class SendResult:
    """The gateway took a send request.

    ``msgid`` identifies the request; each receiver is the pair (``msgid``,
    number). ``points`` is what the gateway says it charged (``None`` when the
    answer did not say), ``api_url`` the host that answered.
    """

    msgid: str
    statuscode: int
    statusstr: str
    points: int | None
    numbers: tuple[str, ...]
    encoding: str
    api_url: str


@dataclass(frozen=True)
class DeliveryStatus:
    """The state of one receiver (``msgid``, ``number``) as a query answered it.

    ``statusstr`` is kept verbatim; ``is_final`` is True for table 2's states.
    ``raw`` holds the answer's fields as they came.
    """

    msgid: str
    number: str
    statuscode: int
    statusstr: str
    is_final: bool
    raw: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_delivered(self) -> bool:
        """True only for ``DELIVRD`` (``ACCEPTD`` is final but never reached the handset)."""
        return is_delivered(self.statusstr)


@dataclass(frozen=True)
class CancelResult:
    """The answer to cancelling a scheduled send: ``cancelled`` when ``statuscode`` is 0."""

    msgid: str
    statuscode: int
    statusstr: str
    cancelled: bool
