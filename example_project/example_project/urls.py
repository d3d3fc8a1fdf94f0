"""URLs: the verification pages, the admin, the REST API and the gateway's callbacks."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("verification.urls")),
    path("admin/", admin.site.urls),
    # Phase-Two delivery reports and replies: the gateway calls these.
    path("smsgo/", include("django_smsgo.urls")),
    # The optional REST API (Django REST framework).
    path("api/sms/", include("django_smsgo.api.urls")),
]

if settings.TWO_FACTOR:
    from two_factor.urls import urlpatterns as two_factor_urls

    # /account/login/, /account/two_factor/setup/ …
    urlpatterns.append(path("", include(two_factor_urls)))
