"""Sphinx configuration for the django-smsgo documentation."""

import os
import sys

import django

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django_smsgo import __version__  # noqa: E402

project = "django-smsgo"
author = "the django-smsgo authors"
copyright = "2026, the django-smsgo authors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "smsgo_model_fields",
]
intersphinx_mapping = {}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False

html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {
    "description": "SMS through smsgo (簡訊購) for Django",
    "fixed_sidebar": True,
}
# _generated/ holds fragments other pages include (the benchmark table), not pages.
exclude_patterns = ["_build", "_generated"]
language = "en"
