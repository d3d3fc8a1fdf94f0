"""Send SMS through the smsgo (簡訊購) gateway from Django."""

__version__ = "0.1.0"
