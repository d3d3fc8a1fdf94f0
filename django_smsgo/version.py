"""The package version, in a module of its own so the client can name it in its User-Agent."""

__version__ = "0.1.0"
