"""Fixtures of the API tests: users with given permissions and clients logged in as them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from rest_framework.test import APIClient

API = "/smsgo/api/"

MakeUser = Callable[..., User]


@pytest.fixture(autouse=True)
def _fresh_throttle_history() -> Iterator[None]:
    # Throttles count requests in the cache; every test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: Any) -> MakeUser:
    """A user holding exactly the given ``django_smsgo`` permissions."""
    counter = iter(range(1, 10_000))

    def make(*codenames: str, staff: bool = False, username: str | None = None) -> User:
        user = User.objects.create_user(
            username or f"user{next(counter)}", password="pw-not-secret", is_staff=staff
        )
        if codenames:
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label="django_smsgo", codename__in=codenames
                )
            )
        return User.objects.get(pk=user.pk)  # fresh: no stale permission cache

    return make


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client authenticated as the user (anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
