"""The client is plain Python: a script without Django (or requests) can import and use it."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["django"] = None  # any "import django..." now fails
sys.modules["requests"] = None  # the transport is the standard library's
sys.modules["urllib3"] = None
from django_smsgo.client import SmsgoClient
from django_smsgo.client.numbers import normalize_numbers
from django_smsgo.client.text import estimate_points
import django_smsgo.exceptions
client = SmsgoClient("user", "secret", api_url="http://127.0.0.1:9/sms_gw/")
prepared = client.validate_send(["0912-345-678"], "hello")
client.close()
print(prepared.numbers[0], estimate_points("hello", 3))
"""


def test_client_imports_and_validates_without_django():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0912345678", "3"]
