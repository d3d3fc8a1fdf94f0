"""The OpenAPI 3 schema: generated without warnings, served at schema/, limited to the API."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from .conftest import API

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]

OPERATIONS = {
    ("/smsgo/api/messages/", "get"),
    ("/smsgo/api/messages/", "post"),
    ("/smsgo/api/messages/{id}/", "get"),
    ("/smsgo/api/messages/{id}/recipients/", "get"),
    ("/smsgo/api/messages/{id}/cancel/", "post"),
    ("/smsgo/api/messages/estimate/", "post"),
    ("/smsgo/api/messages/personalised/", "post"),
    ("/smsgo/api/balance/", "get"),
}


@pytest.fixture
def schema(client: Any) -> dict[str, Any]:
    GENERATOR_STATS.reset()
    response = client.get(f"{API}schema/?format=json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_the_schema_generates_without_warnings_or_errors(schema: dict[str, Any]) -> None:
    emitted = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not emitted
    validate_schema(schema)  # raises on anything that is not valid OpenAPI 3


def test_the_schema_describes_every_operation_and_nothing_else(schema: dict[str, Any]) -> None:
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}

    assert operations == OPERATIONS
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "django-smsgo API"


def test_the_schema_documents_the_idempotency_header_and_the_answers(
    schema: dict[str, Any],
) -> None:
    send = schema["paths"]["/smsgo/api/messages/"]["post"]

    headers = [p["name"] for p in send["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    assert {"200", "201", "400", "402", "409", "429"} <= set(send["responses"])
    filters = [p["name"] for p in schema["paths"]["/smsgo/api/messages/"]["get"]["parameters"]]
    assert {"status", "created_after", "created_before", "phone", "cursor"} <= set(filters)


def test_the_schema_is_served_as_yaml_by_default(client: Any) -> None:
    response = client.get(f"{API}schema/")

    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_importing_the_app_does_not_import_the_rest_framework() -> None:
    # A project without DRF: settings without it, models and services loaded.
    script = textwrap.dedent(
        """
        import sys
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django_smsgo"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            USE_TZ=True,
        )
        django.setup()
        import django_smsgo.models, django_smsgo.services.sending, django_smsgo.services.estimates
        drf = ("rest_framework", "drf_spectacular")
        loaded = sorted(m for m in sys.modules if m.startswith(drf))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
