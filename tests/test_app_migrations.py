"""The migrations of the optional apps describe their models exactly."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

OPTIONAL_APPS = ["smsgo_codes", "otp_smsgo"]


@pytest.mark.django_db
@pytest.mark.parametrize("label", OPTIONAL_APPS)
def test_models_and_migrations_agree(label: str) -> None:
    if label not in {config.label for config in apps.get_app_configs()}:
        pytest.skip(f"{label} is not installed (its library is missing)")
    out = StringIO()
    try:
        call_command("makemigrations", label, check=True, dry_run=True, stdout=out)
    except SystemExit:
        pytest.fail(f"{label}: models and migrations disagree:\n{out.getvalue()}")
