"""Each system check fires on the configuration it is about, and only there."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

# Django 6 runs the model checks against the database too.
pytestmark = pytest.mark.django_db

BASE = {
    "USERNAME": "tester",
    "PASSWORD": "s3cret-Pa55word",
    "CALLBACK_TOKEN": "test-callback-token-with-enough-entropy",
}


def smsgo_check_ids(**smsgo: object) -> set[str]:
    with override_settings(SMSGO={**BASE, **smsgo}):
        return {m.id for m in run_checks() if m.id and m.id.startswith("smsgo.")}


def test_the_test_settings_pass_every_check() -> None:
    assert smsgo_check_ids() == set()


def test_unknown_setting_is_an_error() -> None:
    assert "smsgo.E001" in smsgo_check_ids(PASWORD="typo")


@pytest.mark.parametrize("missing", ["USERNAME", "PASSWORD"])
def test_missing_credentials(missing: str) -> None:
    assert "smsgo.E002" in smsgo_check_ids(**{missing: ""})


def test_missing_credentials_are_fine_with_a_test_backend() -> None:
    ids = smsgo_check_ids(
        USERNAME="", PASSWORD="", BACKEND="django_smsgo.backends.locmem.LocmemBackend"
    )
    assert "smsgo.E002" not in ids


def test_backend_that_cannot_be_imported() -> None:
    assert "smsgo.E003" in smsgo_check_ids(BACKEND="nowhere.Backend")


def test_plain_http_gateway_warns() -> None:
    assert "smsgo.W001" in smsgo_check_ids(API_URL="http://www.smsgo.com.tw/sms_gw/")


@pytest.mark.parametrize(
    "origin", ["example.com", "ftp://example.com", "https://example.com/?a=1", "https://"]
)
def test_callback_origin_must_be_an_origin(origin: str) -> None:
    assert "smsgo.E004" in smsgo_check_ids(CALLBACK_BASE_URL=origin)


def test_plain_http_callback_origin_warns_outside_debug() -> None:
    assert "smsgo.W002" in smsgo_check_ids(CALLBACK_BASE_URL="http://example.com")
    with override_settings(DEBUG=True):
        assert "smsgo.W002" not in smsgo_check_ids(CALLBACK_BASE_URL="http://example.com")


def test_callback_token_required_with_callbacks() -> None:
    assert "smsgo.E005" in smsgo_check_ids(
        CALLBACK_BASE_URL="https://example.com", CALLBACK_TOKEN=""
    )


def test_short_callback_token_warns() -> None:
    assert "smsgo.W003" in smsgo_check_ids(
        CALLBACK_BASE_URL="https://example.com", CALLBACK_TOKEN="short"
    )


def test_callback_routes_must_be_included() -> None:
    with override_settings(ROOT_URLCONF="tests.urls_without_smsgo"):
        assert "smsgo.E006" in smsgo_check_ids(CALLBACK_BASE_URL="https://example.com")


def test_reply_url_longer_than_the_gateway_accepts() -> None:
    long_origin = "https://" + "a" * 250 + ".example.com"
    assert "smsgo.E007" in smsgo_check_ids(CALLBACK_BASE_URL=long_origin)
    assert "smsgo.E007" not in smsgo_check_ids(CALLBACK_BASE_URL="https://example.com")


@pytest.mark.parametrize("networks", ["203.0.113.0/24", ["not-an-address"], ["10.0.0.0/8", ""]])
def test_callback_allow_list_must_hold_networks(networks: object) -> None:
    assert "smsgo.E008" in smsgo_check_ids(CALLBACK_ALLOWED_IPS=networks)


def test_valid_callback_allow_list_passes() -> None:
    ids = smsgo_check_ids(CALLBACK_ALLOWED_IPS=["203.0.113.7", "2001:db8::/32"])
    assert "smsgo.E008" not in ids


def test_proxy_header_without_allow_list_warns() -> None:
    assert "smsgo.W004" in smsgo_check_ids(CALLBACK_TRUSTED_PROXY_HEADER="HTTP_X_FORWARDED_FOR")
    assert "smsgo.W004" not in smsgo_check_ids(
        CALLBACK_TRUSTED_PROXY_HEADER="HTTP_X_FORWARDED_FOR", CALLBACK_ALLOWED_IPS=["10.0.0.0/8"]
    )


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("CALLBACK_PREVIOUS_TOKENS", "old-token", "smsgo.E009"),
        ("CALLBACK_PREVIOUS_TOKENS", ["old-token", ""], "smsgo.E009"),
        ("OPT_OUT_KEYWORDS", "STOP", "smsgo.E010"),
        ("OPT_OUT_KEYWORDS", ["STOP", None], "smsgo.E010"),
    ],
)
def test_string_lists(name: str, value: object, check_id: str) -> None:
    assert check_id in smsgo_check_ids(**{name: value})


def test_unknown_default_encoding() -> None:
    assert "smsgo.E011" in smsgo_check_ids(DEFAULT_ENCODING="UTF8")
    assert "smsgo.E011" not in smsgo_check_ids(DEFAULT_ENCODING="LASCII")


def test_invalid_override_recipients() -> None:
    assert "smsgo.E012" in smsgo_check_ids(OVERRIDE_RECIPIENTS=["0912-345-678", "12345"])
    assert "smsgo.E012" not in smsgo_check_ids(OVERRIDE_RECIPIENTS=["0912-345-678"])


def test_unknown_priority_queue() -> None:
    assert "smsgo.E013" in smsgo_check_ids(PRIORITY_QUEUES={"urgent": "sms-urgent"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DUPLICATE_WINDOW", -1),
        ("POLL_BATCH_SIZE", 0),
        ("SEND_RETRY_MAX", "5"),
        ("REPLY_DAYS", True),
    ],
)
def test_numbers_settings(name: str, value: object) -> None:
    assert "smsgo.E014" in smsgo_check_ids(**{name: value})


def test_claim_lease_shorter_than_a_slow_request() -> None:
    assert "smsgo.W005" in smsgo_check_ids(CLAIM_LEASE=60, CONNECT_TIMEOUT=5, READ_TIMEOUT=30)
    assert "smsgo.W005" not in smsgo_check_ids(CLAIM_LEASE=300)


def test_test_backend_without_debug_warns() -> None:
    backend = "django_smsgo.backends.locmem.LocmemBackend"
    assert "smsgo.W006" in smsgo_check_ids(BACKEND=backend)
    with override_settings(DEBUG=True):
        assert "smsgo.W006" not in smsgo_check_ids(BACKEND=backend)


def test_every_plain_http_gateway_url_warns() -> None:
    # The backup host is a gateway URL like the primary: the password rides on it too.
    assert "smsgo.W001" in smsgo_check_ids(BACKUP_API_URL="http://127.0.0.1:8765/sms_gw/")
    assert "smsgo.W001" not in smsgo_check_ids(BACKUP_API_URL=None)


def test_a_plain_http_gateway_off_this_machine_is_refused() -> None:
    ids = smsgo_check_ids(BACKUP_API_URL="http://www2.smsgo.com.tw/sms_gw/")
    assert "smsgo.E021" in ids
    assert "smsgo.E021" not in smsgo_check_ids(
        BACKUP_API_URL="http://www2.smsgo.com.tw/sms_gw/", ALLOW_PLAIN_HTTP=True
    )
    assert "smsgo.E021" not in smsgo_check_ids(API_URL="http://127.0.0.1:8765/sms_gw/")


def test_check_deploy_warns_on_a_plain_http_callback_origin_even_in_debug() -> None:
    with override_settings(DEBUG=True, SMSGO={**BASE, "CALLBACK_BASE_URL": "http://example.com"}):
        deploy = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "smsgo.W002" in deploy


def test_celery_dispatch_without_celery_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from django_smsgo.services import dispatching

    monkeypatch.setattr(dispatching, "_celery", None)  # what ready() leaves without Celery
    assert "smsgo.E022" in smsgo_check_ids(DISPATCH="celery")
    assert "smsgo.E022" not in smsgo_check_ids(DISPATCH="auto")
    assert "smsgo.E022" in smsgo_check_ids(DISPATCH="sometimes")


def test_sqlite_without_busy_timeout_or_wal_warns() -> None:
    import django
    from django.conf import settings

    default = settings.DATABASES["default"]
    bare = {**default, "ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}}
    with (
        pytest.warns(UserWarning, match="DATABASES"),
        override_settings(DATABASES={**settings.DATABASES, "default": bare}),
    ):
        warnings = [m for m in run_checks() if m.id == "smsgo.W009"]
    assert len(warnings) == 1
    assert "busy timeout" in warnings[0].msg
    assert '"timeout": 20' in str(warnings[0].hint)
    if django.VERSION >= (5, 1):
        assert "WAL" in warnings[0].msg
        assert "journal_mode=WAL" in str(warnings[0].hint)


@pytest.mark.django_db(transaction=True)
def test_periodic_jobs_that_never_ran_warn_in_the_database_checks() -> None:
    from django.utils import timezone

    from django_smsgo.models import JobRun

    assert "smsgo.W010" in {m.id for m in run_checks(databases=["default"])}
    assert "smsgo.W010" not in {m.id for m in run_checks()}  # only with database access
    for name in ("sweep", "poll"):
        JobRun.objects.create(name=name, finished_at=timezone.now(), succeeded=True)
    assert "smsgo.W010" not in {m.id for m in run_checks(databases=["default"])}
