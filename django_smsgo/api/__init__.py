"""An optional REST API for sending and following SMS (Django REST framework).

Install the ``drf`` extra and include the URLs in the project::

    path("smsgo/api/", include("django_smsgo.api.urls"))

Nothing outside this package imports it, so projects without Django REST
framework never load it.
"""

from importlib.util import find_spec

from django.core.exceptions import ImproperlyConfigured

_MISSING = [name for name in ("rest_framework", "drf_spectacular") if find_spec(name) is None]
if _MISSING:
    # Said here, where the URLconf first imports the package, so that every
    # manage.py command names the fix instead of ending in ModuleNotFoundError.
    raise ImproperlyConfigured(
        "django_smsgo.api (the REST API) needs Django REST framework and drf-spectacular, "
        f"and {' and '.join(_MISSING)} cannot be imported: "
        'pip install "django-smsgo[drf]", or take django_smsgo.api.urls out of the URLconf.'
    )
