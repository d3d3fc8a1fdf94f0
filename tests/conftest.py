pytest_plugins = ["django_smsgo.simulator.pytest_plugin"]
