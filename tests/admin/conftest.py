"""Fixtures of the admin tests: staff users with chosen permissions, logged-in clients,
the bundled simulator as the gateway, and messages with many recipients."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from django_smsgo.models import Message, Recipient
from django_smsgo.testing.factories import MessageFactory

CHANGELIST = "/admin/django_smsgo/message/"
ADD = "/admin/django_smsgo/message/add/"
ESTIMATE = "/admin/django_smsgo/message/estimate/"

MakeStaff = Callable[..., User]

# The Django matrix runs without Playwright; the browser modules import it at
# their top, so there they are not collected at all.
if importlib.util.find_spec("playwright") is None:
    collect_ignore_glob = ["test_browser*.py", "test_screenshots*.py"]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The change list's summary is cached for a minute; each test starts without it."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """Each test starts in English; a request in another language does not leak into the next."""
    translation.activate("en")
    yield
    translation.deactivate()


def send_requests(simulator: Any) -> list[dict[str, Any]]:
    """The send requests the simulator received, oldest first."""
    return [r for r in simulator.requests if r["endpoint"] == "sendsms.aspx"]


@pytest.fixture
def make_staff(db: Any) -> MakeStaff:
    """A staff user holding exactly the given ``django_smsgo`` permissions."""
    counter = iter(range(1, 10_000))

    def make(*codenames: str, username: str | None = None) -> User:
        user = User.objects.create_user(
            username or f"staff{next(counter)}", password="pw-not-secret", is_staff=True
        )
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="django_smsgo", codename__in=codenames
            )
        )
        return User.objects.get(pk=user.pk)

    return make


ALL_PERMS = (
    "view_message",
    "add_message",
    "send_sms",
    "cancel_sms",
    "view_deliveryreport",
    "view_reply",
    "view_balancesnapshot",
)


@pytest.fixture
def sender(make_staff: MakeStaff) -> User:
    """A staff member who may compose, send, cancel and view."""
    return make_staff(*ALL_PERMS, username="sender")


@pytest.fixture
def viewer(make_staff: MakeStaff) -> User:
    """A staff member who may only look."""
    return make_staff("view_message", "view_deliveryreport", "view_reply", username="viewer")


@pytest.fixture
def client_as() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def numbers(count: int, start: int = 0) -> list[str]:
    """``count`` distinct valid Taiwanese mobile numbers."""
    return [f"09{n:08d}" for n in range(10_000_000 + start, 10_000_000 + start + count)]


@pytest.fixture
def make_message(db: Any) -> Callable[..., Message]:
    """A stored message with ``count`` recipients in the given statuses (no gateway)."""

    def make(
        count: int = 5,
        *,
        status: str = Message.Status.DRAFT,
        recipient_status: str = Recipient.Status.QUEUED,
        body: str = "Your parcel is on its way",
        **fields: Any,
    ) -> Message:
        message: Message = MessageFactory(
            body=body,
            status=status,
            recipients=numbers(count),
            recipients__status=recipient_status,
            **fields,
        )
        return message

    return make
