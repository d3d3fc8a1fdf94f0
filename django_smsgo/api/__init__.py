"""An optional REST API for sending and following SMS (Django REST framework).

Install the ``drf`` extra and include the URLs in the project::

    path("smsgo/api/", include("django_smsgo.api.urls"))

Nothing outside this package imports it, so projects without Django REST
framework never load it.
"""
