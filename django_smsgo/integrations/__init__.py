"""Optional integrations with other Django libraries, one subpackage (or module) each.

Each is installed by an extra of the same name and imports its library only
when it is used:

* ``django_smsgo.integrations.phonenumber`` (``[phonenumber]``): ``PhoneNumber``
  objects as numbers.
* ``django_smsgo.integrations.two_factor`` (``[two-factor]``): a
  ``TWO_FACTOR_SMS_GATEWAY``.
* ``django_smsgo.integrations.otp`` (``[otp]``): a django-otp SMS device, an app
  with migrations.
* ``django_smsgo.integrations.allauth`` (``[allauth]``): phone login texts.
* ``django_smsgo.integrations.django_sms`` (``[django-sms]``): an ``SMS_BACKEND``.
* ``django_smsgo.integrations.beat`` (``[beat]``): the periodic tasks, made by
  ``manage.py smsgo_beat``.
"""
