"""Callback endpoints the gateway calls.

Include them with ``path("smsgo/", include("django_smsgo.urls"))``.
"""

from django.urls import path, re_path

from django_smsgo import views

app_name = "smsgo"

urlpatterns = [
    path("report/<int:batch_id>/<str:token>/", views.delivery_report, name="report"),
    path("reply/<int:batch_id>/<str:token>/", views.reply, name="reply"),
    # smsgo_doctor's check that CALLBACK_BASE_URL leads to this site.
    path("probe/<str:nonce>/<str:token>/", views.callback_probe, name="probe"),
    # Any other path under these prefixes may hold a token: answered here, so
    # Django's 404 page and request log never show it.
    re_path(r"^(?:report|reply|probe)(?:/|$)", views.not_found),
]
