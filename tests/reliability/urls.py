"""URLs of the processes the reliability suite starts: the app's views and its API."""

from django.urls import include, path

urlpatterns = [
    path("smsgo/api/", include("django_smsgo.api.urls")),
    path("smsgo/", include("django_smsgo.urls")),
]
