"""The duplicate guard and the idempotency key under concurrent callers, at scale.

``tests/core/test_races.py`` and ``tests/api/test_races.py`` keep one race each;
here many rounds of them, in threads of this process (each with its own
database connection, as concurrent web requests are) and over HTTP against
gunicorn (2 processes x 4 threads), with figures: every round must store one
message and send each of its numbers exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import Permission, User

from django_smsgo.models import Message, Recipient
from django_smsgo.services.errors import DuplicateMessageError
from django_smsgo.services.sending import send_sms
from django_smsgo.simulator.instance import Simulator
from tests.core.test_races import race
from tests.reliability.conftest import count_secrets, gunicorn
from tests.reliability.test_gateway_faults import sends_per_number
from tests.reliability.test_workers import phones

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

ROUNDS = 10
CALLERS = 40
NUMBERS = 50  # per call: ROUNDS x CALLERS x NUMBERS = 20,000 recipients asked for
HTTP_CALLERS = 10
HTTP_NUMBERS = 200  # the same 20,000 over HTTP, in fewer, larger requests


def round_numbers(first: int, count: int = NUMBERS) -> list[list[str]]:
    return [phones(count, first=first + r * 1_000) for r in range(ROUNDS)]


def gateway_figures(gateway: Simulator, rounds: list[list[str]]) -> dict[str, int]:
    per_number = sends_per_number(gateway)
    wanted = [n for numbers in rounds for n in numbers]
    return {
        "duplicates": gateway.duplicates()["extra_sends"]
        + sum(1 for n in wanted if per_number[n] > 1),
        "lost": sum(1 for n in wanted if per_number[n] == 0),
    }


@pytest.fixture
def inline(configure: Callable[..., None], gateway: Simulator) -> Simulator:
    # Concurrent web requests in a project without a broker; Celery's eager mode
    # is not thread-safe (a global "inside a task" flag).
    configure(DISPATCH="inline")
    return gateway


def test_duplicate_guard_race_in_threads_at_scale(
    inline: Simulator, figures: Callable[..., None]
) -> None:
    rounds = round_numbers(70_000_000)
    outcomes: Counter[str] = Counter()
    for r, numbers in enumerate(rounds):
        results = race(CALLERS, lambda: send_sms(numbers, f"Parcel {r} is here"))  # noqa: B023
        outcomes.update(type(result).__name__ for result in results)
        stored = [x for x in results if isinstance(x, Message)]
        assert len(stored) == 1, results
        assert all(isinstance(x, DuplicateMessageError) for x in results if x not in stored)
    result = gateway_figures(inline, rounds)
    figures(
        f"duplicate guard: {ROUNDS} rounds of {CALLERS} threads, same text and numbers",
        recipients=ROUNDS * CALLERS * NUMBERS,
        messages_stored=Message.objects.count(),
        outcomes=dict(outcomes),
        **result,
    )
    assert Message.objects.count() == ROUNDS
    assert Recipient.objects.count() == ROUNDS * NUMBERS
    assert result == {"duplicates": 0, "lost": 0}


def test_idempotency_race_in_threads_at_scale(
    inline: Simulator, figures: Callable[..., None]
) -> None:
    rounds = round_numbers(71_000_000)
    outcomes: Counter[str] = Counter()
    for r, numbers in enumerate(rounds):
        results = race(
            CALLERS,
            lambda: send_sms(numbers, f"Order {r} shipped", idempotency_key=f"order-{r}"),  # noqa: B023
        )
        outcomes.update(type(result).__name__ for result in results)
        assert all(isinstance(x, Message) for x in results), results
        assert len({x.pk for x in results}) == 1
    result = gateway_figures(inline, rounds)
    figures(
        f"idempotency key: {ROUNDS} rounds of {CALLERS} threads, one key a round",
        recipients=ROUNDS * CALLERS * NUMBERS,
        messages_stored=Message.objects.count(),
        outcomes=dict(outcomes),
        **result,
    )
    assert Message.objects.count() == ROUNDS
    assert result == {"duplicates": 0, "lost": 0}


@pytest.mark.parametrize("kind", ["duplicate-guard", "idempotency-key"])
def test_races_over_http_against_gunicorn_at_scale(
    kind: str,
    inline: Simulator,
    settings: Any,
    worker_logs: Path,
    figures: Callable[..., None],
) -> None:
    user = User.objects.create_user("racer", password="racer-pw-0")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_smsgo", codename="send_sms")
    )
    smsgo = {
        "API_URL": inline.base_url,
        "BACKUP_API_URL": None,
        "CALLBACK_BASE_URL": None,
        "DISPATCH": "inline",
        "API_SEND_THROTTLE_RATE": None,  # the race, not the rate limit
    }
    rounds = round_numbers(
        72_000_000 if kind == "duplicate-guard" else 73_000_000, count=HTTP_NUMBERS
    )
    codes: Counter[int] = Counter()
    without_one_201: list[tuple[int, int]] = []  # (round, 201 answers) when not exactly one
    log = worker_logs / "gunicorn.log"
    with gunicorn(smsgo, log=log) as base:
        url = f"{base}/smsgo/api/messages/"
        for r, numbers in enumerate(rounds):

            def post(_: int, numbers: list[str] = numbers, r: int = r) -> requests.Response:
                headers = {"Idempotency-Key": f"order-{r}"} if kind == "idempotency-key" else {}
                return requests.post(
                    url,
                    json={"to": numbers, "body": f"Order {r} ({kind}) shipped"},
                    headers=headers,
                    auth=("racer", "racer-pw-0"),
                    timeout=120,
                )

            with ThreadPoolExecutor(max_workers=HTTP_CALLERS) as pool:
                answers = list(pool.map(post, range(HTTP_CALLERS)))
            codes.update(a.status_code for a in answers)
            statuses = sorted(a.status_code for a in answers)
            later = 200 if kind == "idempotency-key" else 409
            assert set(statuses) <= {201, later}, [
                (a.status_code, a.text[:200]) for a in answers if a.status_code not in (201, later)
            ]
            if statuses.count(201) != 1:
                without_one_201.append((r, statuses.count(201)))
            if kind == "idempotency-key":
                assert len({a.json()["id"] for a in answers}) == 1
    result = gateway_figures(inline, rounds)
    secrets = count_secrets(
        [log.read_text(errors="replace")], [str(settings.SMSGO["PASSWORD"]), "racer-pw-0"]
    )
    figures(
        f"{kind} over HTTP: {ROUNDS} rounds of {HTTP_CALLERS} POSTs to gunicorn",
        recipients=ROUNDS * HTTP_CALLERS * HTTP_NUMBERS,
        messages_stored=Message.objects.count(),
        answers=dict(sorted(codes.items())),
        server_errors=sum(n for code, n in codes.items() if code >= 500),
        rounds_without_one_201=len(without_one_201),
        secrets=secrets,
        **result,
    )
    assert Message.objects.count() == ROUNDS
    assert result == {"duplicates": 0, "lost": 0}
    assert secrets == 0
    if without_one_201 and kind == "idempotency-key":
        # Seen under gunicorn with 20 racing POSTs: one message, one send, every
        # answer the same message, but no 201 in a round (all 200). Not yet explained.
        pytest.xfail(f"rounds without exactly one 201 (round, 201s): {without_one_201}")
    assert without_one_201 == []
