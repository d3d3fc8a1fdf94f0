"""URLs of the integration tests: the real views of two-factor and allauth."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from django.contrib import admin
from django.urls import include, path

urlpatterns: list[Any] = [path("admin/", admin.site.urls)]

if find_spec("two_factor") and find_spec("formtools"):
    from two_factor.urls import urlpatterns as two_factor_urls

    urlpatterns.append(path("", include(two_factor_urls)))
if find_spec("allauth"):
    urlpatterns.append(path("accounts/", include("allauth.urls")))
