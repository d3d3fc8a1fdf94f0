"""URLs of the REST API; include them under a prefix of your choice::

    path("smsgo/api/", include("django_smsgo.api.urls"))

``messages/`` and its actions, ``balance/``, and the OpenAPI 3 schema at
``schema/``.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from django_smsgo.api.schema import SchemaView
from django_smsgo.api.views import BalanceView, MessageViewSet

app_name = "smsgo_api"

router = SimpleRouter()
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    *router.urls,
    path("balance/", BalanceView.as_view(), name="balance"),
    path("schema/", SchemaView.as_view(), name="schema"),
]
