"""The smsgo gateway protocol in plain Python (no Django): requests, answers, rules.

``SmsgoClient`` talks to the gateway; :mod:`.numbers`, :mod:`.text`,
:mod:`.encodings` and :mod:`.statuses` hold the rules it checks, usable on
their own.
"""

from django_smsgo.client.encodings import Encoding
from django_smsgo.client.gateway_client import BACKUP_API_URL, PRIMARY_API_URL, SmsgoClient
from django_smsgo.client.pending import PendingSend
from django_smsgo.client.results import CancelResult, DeliveryStatus, SendResult
from django_smsgo.client.validation import PreparedSend

__all__ = [
    "BACKUP_API_URL",
    "PRIMARY_API_URL",
    "CancelResult",
    "DeliveryStatus",
    "Encoding",
    "PendingSend",
    "PreparedSend",
    "SendResult",
    "SmsgoClient",
]
