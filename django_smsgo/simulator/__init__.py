"""A local smsgo gateway for development, tests, the demo and the benchmarks.

A WSGI application with no Django dependency: the five endpoints of the vendor
document under ``/sms_gw/``, delivery reports and replies sent back to the
vendor, fault injection and an admin API under ``/_admin/``. Start it with
``python -m django_smsgo.simulator`` or ``manage.py smsgo_simulator``, or in
Python::

    from django_smsgo.simulator import Account, Simulator

    with Simulator(accounts=[Account("user", "password", 100)]) as gateway:
        print(gateway.base_url)   # http://127.0.0.1:<port>/sms_gw/
"""

from .app import SimulatorApp
from .faults import Fault
from .instance import Simulator
from .records import Account, Message, Receiver, SimulatorConfig
from .state import SimulatorError, SimulatorState

__all__ = [
    "Account",
    "Fault",
    "Message",
    "Receiver",
    "Simulator",
    "SimulatorApp",
    "SimulatorConfig",
    "SimulatorError",
    "SimulatorState",
]
