"""URL configuration of the API tests: the API mounted where the docs tell projects to."""

from django.urls import include, path

urlpatterns = [
    path("smsgo/api/", include("django_smsgo.api.urls")),
]
