"""TLS faults after the request, end to end: ``send_sms()``, a real worker, a real TLS gateway.

The gateway is the bundled simulator behind a TLS front on loopback
(:class:`tests.tls_server.TlsServer` with ``upstream``, a certificate made for
the test run): each send request is carried out by the simulator, and *then*
the TLS front misbehaves on the first two send requests: it corrupts a record
of the answer, sends a fatal alert, resets the connection, closes it (with or
without ``close_notify``), cuts the answer short, or stalls past the read
timeout. The gateway accepted those two batches; the app cannot know it.
They must end ``uncertain`` and never be sent again, with or without a backup
host (a backup must not be tried after the request left). A reset during the
handshake is the control case: surely not sent, so released and sent later,
once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_smsgo import send_sms
from django_smsgo.models import Batch, Recipient
from django_smsgo.simulator.instance import Simulator
from tests.reliability.conftest import (
    callback_tokens,
    count_secrets,
    false_uncertain,
    wait_until,
    worker_log_texts,
)
from tests.reliability.test_gateway_faults import dispatch_done, sends_per_number
from tests.reliability.test_workers import accepted_numbers, phones, worker_settings
from tests.tls_server import tls_certificates, tls_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

AFTER_THE_REQUEST = ["corrupt", "alert", "reset", "close", "ragged", "half", "stall"]
RECIPIENTS = 500  # 10 requests of 50
FAULTS = 2  # send requests that meet the misbehaviour


CASES = [
    *[pytest.param(b, False, id=f"{b}-no-backup") for b in [*AFTER_THE_REQUEST, "handshake-reset"]],
    # With a backup host, the variants that used to fail over (an SSLError read as "unreachable").
    *[pytest.param(b, True, id=f"{b}-backup") for b in ["corrupt", "alert", "reset", "stall"]],
]


@pytest.mark.parametrize(("behaviour", "with_backup"), CASES)
def test_a_tls_fault_after_the_gateway_accepted_is_uncertain_and_never_resent(
    behaviour: str,
    with_backup: bool,
    smsgo_simulator_factory: Callable[..., Simulator],
    tls_server: Callable[..., Any],  # noqa: F811 - the fixture
    tls_certificates: Any,  # noqa: F811 - the fixture
    settings: Any,
    start_worker: Callable[..., Any],
    worker_logs: Any,
    monkeypatch: pytest.MonkeyPatch,
    figures: Callable[..., None],
) -> None:
    gateway = smsgo_simulator_factory()
    backup = smsgo_simulator_factory() if with_backup else None
    front = tls_server(
        behaviour, upstream=gateway.base_url, faults=FAULTS, fault_path="sendsms.aspx"
    )
    # The workers trust the test CA as they would a public one (the default context).
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificates.ca))
    smsgo = worker_settings(
        gateway,
        settings,
        API_URL=front.url(),
        BACKUP_API_URL=backup.base_url if backup else None,
        CALLBACK_BASE_URL="https://shop.example",
        READ_TIMEOUT=1.5,
    )
    start_worker(smsgo, name=f"tls-{behaviour}-{int(with_backup)}")
    numbers = phones(RECIPIENTS, first=40_000_000)
    message = send_sms(numbers, f"reliability: TLS {behaviour}", encoding="ASCII")
    assert wait_until(dispatch_done(message), timeout=120)

    recipients = Recipient.objects.filter(message=message)
    uncertain = list(
        recipients.filter(status=Recipient.Status.UNCERTAIN).values_list("phone", flat=True)
    )
    submitted = recipients.filter(status=Recipient.Status.SUBMITTED).count()
    per_number = sends_per_number(gateway)
    accepted = accepted_numbers(gateway)
    via_backup = accepted_numbers(backup) if backup else []
    duplicates = gateway.duplicates()["extra_sends"]
    batches = list(Batch.objects.filter(message=message).values_list("pk", flat=True))
    secrets = count_secrets(
        worker_log_texts(worker_logs), [str(settings.SMSGO["PASSWORD"]), *callback_tokens(batches)]
    )
    after_request = behaviour != "handshake-reset"
    figures(
        f"TLS {behaviour} on 2 sends" + (", backup host" if backup else ""),
        recipients=len(numbers),
        acknowledged=submitted,
        uncertain=len(uncertain),
        accepted_by_gateway=len(accepted),
        via_backup=len(via_backup),
        duplicates=duplicates,
        resent=sum(1 for n in numbers if per_number[n] > 1),
        lost=len(numbers) - submitted - len(uncertain),
        false_uncertain=false_uncertain(uncertain, per_number),
        secrets=secrets,
    )
    assert len(front.faulted) == FAULTS
    assert duplicates == 0
    assert all(per_number[n] == 1 for n in numbers), "a number was sent twice"
    assert via_backup == [], "a request that had left was failed over to the backup"
    assert secrets == 0
    if after_request:
        # The gateway took the two batches; the app cannot know: uncertain, not re-sent.
        assert len(uncertain) == FAULTS * 50
        assert submitted == len(numbers) - FAULTS * 50
        assert sorted(accepted) == sorted(numbers)
        assert false_uncertain(uncertain, per_number) == 0
    else:
        # Reset before the request left: surely not sent, released and sent once later.
        assert uncertain == []
        assert submitted == len(numbers)
        assert sorted(accepted) == sorted(numbers)
