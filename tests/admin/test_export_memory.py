"""A 100,000-row export holds a few thousand rows in memory, never all of them.

The peak of Python's allocations (``tracemalloc``) while a whole export is
streamed is compared, in the same run, with the peak of the same export of
10,000 rows and with the peak of merely holding the 100,000 rows' values in
a list. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from django.utils import timezone

from django_smsgo.models import Message, Recipient
from django_smsgo.services import send_log
from tests.admin.conftest import CHANGELIST
from tests.admin.log_data import seed

LOG_EXPORT = f"{CHANGELIST}log/export/"
MB = 1024 * 1024


def peak(work: Callable[[], object]) -> tuple[int, object]:
    """The peak of allocations made while ``work`` runs, in bytes, and its answer."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        answer = work()
        return tracemalloc.get_traced_memory()[1] - before, answer
    finally:
        tracemalloc.stop()


def streamed(client, params: dict[str, str]) -> Callable[[], int]:
    def run() -> int:
        response = client.get(LOG_EXPORT, params)
        assert response.streaming
        return sum(len(chunk) for chunk in response.streaming_content)

    return run


def test_a_100000_row_export_streams_in_constant_memory(client_as, sender):
    messages = seed(100_000, per_message=1_000, senders=[sender])
    client = client_as(sender)
    client.get(f"{CHANGELIST}log/")  # session and catalogues loaded before measuring
    # The newest ten messages: 10,000 rows.
    tenth = Message.objects.get(pk=messages[-10].pk).created_at
    since = timezone.localtime(tenth, send_log.TAIPEI).date().isoformat()
    held_peak, _ = peak(lambda: list(Recipient.objects.values_list(*send_log.EXPORT_FIELDS[:-1])))
    for kind in ("csv", "xlsx"):
        small_peak, small_bytes = peak(streamed(client, {"format": kind, "since": since}))
        large_peak, large_bytes = peak(streamed(client, {"format": kind}))
        print(
            f"\n{kind}: 10,000 rows {small_bytes / MB:.1f} MB written, peak"
            f" {small_peak / MB:.2f} MB; 100,000 rows {large_bytes / MB:.1f} MB written, peak"
            f" {large_peak / MB:.2f} MB ({large_peak / small_peak:.2f}x the 10,000-row peak);"
            f" holding the 100,000 rows' values: peak {held_peak / MB:.1f} MB"
            f" ({held_peak / large_peak:.0f}x the export's)"
        )
        assert large_bytes > 8 * small_bytes  # the larger export really is ten times larger
        assert large_peak < 1.5 * small_peak  # ten times the rows, about the same memory
        assert large_peak * 5 < held_peak  # far less than the rows themselves
