"""URLs of the benchmark project: the test project's, plus a plain admin site as a baseline.

``/vanilla-admin/`` registers ``Message`` with Django's stock ``ModelAdmin``:
the admin benchmark compares the app's message console with it, on the same
rows.
"""

from django.contrib import admin
from django.urls import path

from django_smsgo.models import Message
from tests.urls import urlpatterns as project_urlpatterns


class StockMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    # Django's own templates, not the app's overrides found by app and model name.
    change_form_template = "admin/change_form.html"
    change_list_template = "admin/change_list.html"


vanilla_site = admin.AdminSite(name="vanilla")
vanilla_site.register(Message, StockMessageAdmin)

urlpatterns = [*project_urlpatterns, path("vanilla-admin/", vanilla_site.urls)]
