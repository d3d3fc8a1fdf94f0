"""A send that could never go out is refused by every entry point, before anything is stored.

Three ways a project cannot send: no account, ``DISPATCH = "celery"`` without
Celery, and a gateway URL that would carry the password over plain HTTP. For
each, every way in — ``send_sms``, ``send_mass_sms``, ``queue_message``, the
admin's compose page and its send action, the API, ``smsgo_send`` — answers
with the setting to fix, stores no row and makes no gateway request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from django_smsgo import send_sms
from django_smsgo.exceptions import SmsgoConfigurationError, SmsgoError
from django_smsgo.models import Message, Recipient
from django_smsgo.services import dispatching
from django_smsgo.services.sending import create_draft, queue_message, send_mass_sms
from django_smsgo.simulator.instance import Simulator

pytestmark = pytest.mark.django_db(transaction=True)

ADD = "/admin/django_smsgo/message/add/"
CHANGELIST = "/admin/django_smsgo/message/"
API = "/smsgo/api/messages/"
NUMBERS = ["0912345678", "0922333444"]


def no_credentials(configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> str:
    configure(USERNAME="", PASSWORD="")
    return "SMSGO['USERNAME'] and SMSGO['PASSWORD'] not set"


def celery_missing(configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> str:
    # What the app's ready() leaves behind when Celery cannot be imported.
    monkeypatch.setattr(dispatching, "_celery", None)
    configure(DISPATCH="celery")
    return "SMSGO['DISPATCH'] is 'celery' but Celery is not installed"


def plain_http(configure: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> str:
    configure(BACKUP_API_URL="http://www2.smsgo.com.tw/sms_gw/")
    return "SMSGO['BACKUP_API_URL'] is 'http://www2.smsgo.com.tw/sms_gw/', plain HTTP"


MISCONFIGURATIONS = [no_credentials, celery_missing, plain_http]


@pytest.fixture(params=MISCONFIGURATIONS, ids=lambda f: f.__name__)
def misconfigured(
    request: pytest.FixtureRequest,
    gateway: Simulator,
    configure: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The project broken in one way; yields the words the refusal must contain."""
    expected = request.param(configure, monkeypatch)
    yield expected
    assert gateway.requests == [], "a refused send reached the gateway"


def assert_nothing_stored() -> None:
    assert Message.objects.count() == 0
    assert Recipient.objects.count() == 0


def staff() -> User:
    user = User.objects.create_user("sender", password="pw-not-secret", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_smsgo"))
    return User.objects.get(pk=user.pk)


def test_the_refusal_is_a_configuration_error_not_a_send_error() -> None:
    assert issubclass(SmsgoConfigurationError, ImproperlyConfigured)
    assert not issubclass(SmsgoConfigurationError, SmsgoError)


def test_send_sms_refuses(misconfigured: str) -> None:
    with pytest.raises(SmsgoConfigurationError) as refused:
        send_sms(NUMBERS, "Hello")
    assert misconfigured in str(refused.value)
    assert_nothing_stored()


def test_send_mass_sms_refuses(misconfigured: str) -> None:
    with pytest.raises(SmsgoConfigurationError, match="SMSGO"):
        send_mass_sms([(NUMBERS[0], "Hello A"), (NUMBERS[1], "Hello B")])
    assert_nothing_stored()


def test_queue_message_refuses_and_the_draft_stays_a_draft(
    misconfigured: str, configure: Callable[..., None]
) -> None:
    draft = create_draft(NUMBERS, "Hello")
    with pytest.raises(SmsgoConfigurationError) as refused:
        queue_message(draft)
    assert misconfigured in str(refused.value)
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT
    assert draft.recipients.filter(status=Recipient.Status.QUEUED).count() == 2


@pytest.mark.parametrize("button", ["_send", "_save"])
def test_the_admin_compose_page_refuses_to_store(misconfigured: str, button: str) -> None:
    client = Client()
    client.force_login(staff())
    response = client.post(
        ADD,
        {"recipients": "\n".join(NUMBERS), "body": "Hello", "encoding": "", button: "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "SMS cannot be sent with this site&#x27;s settings" in page
    assert misconfigured.replace("'", "&#x27;") in page
    assert_nothing_stored()


def test_the_admin_send_action_refuses_and_leaves_the_draft(misconfigured: str) -> None:
    draft = create_draft(NUMBERS, "Hello")
    client = Client()
    client.force_login(staff())
    response = client.post(
        CHANGELIST,
        {"action": "send_messages", "_selected_action": [draft.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(misconfigured in text for text in shown), shown
    draft.refresh_from_db()
    assert draft.status == Message.Status.DRAFT


@pytest.mark.urls("tests.api.urls")
def test_the_api_answers_503_with_the_setting(misconfigured: str) -> None:
    client = APIClient()
    client.force_authenticate(staff())
    response = client.post(API, {"to": NUMBERS, "body": "Hello"}, format="json")
    assert response.status_code == 503
    assert misconfigured in response.json()["detail"]
    assert "nothing stored" in response.json()["detail"]
    assert_nothing_stored()


def test_smsgo_send_exits_with_the_error(misconfigured: str) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("smsgo_send", *NUMBERS, "-m", "Hello", "--no-wait")
    assert misconfigured in str(refused.value)
    assert_nothing_stored()


def test_a_loopback_gateway_in_plain_http_is_allowed(gateway: Simulator) -> None:
    # The bundled simulator on this machine: the password never leaves it.
    message = send_sms(NUMBERS[0], "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED
    assert len(gateway.messages) == 1


def test_allow_plain_http_lets_the_project_accept_an_http_host(
    gateway: Simulator, configure: Callable[..., None]
) -> None:
    configure(BACKUP_API_URL="http://www2.smsgo.com.tw/sms_gw/", ALLOW_PLAIN_HTTP=True)
    message = send_sms(NUMBERS[0], "Hello")
    message.refresh_from_db()
    assert message.status == Message.Status.SUBMITTED


def test_the_backup_host_is_off_by_default(settings: Any) -> None:
    from django_smsgo.conf import DEFAULTS

    assert DEFAULTS["BACKUP_API_URL"] is None
