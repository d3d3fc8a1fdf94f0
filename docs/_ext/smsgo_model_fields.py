"""``.. smsgo-model-fields:: django_smsgo.models.Message``: a table of a model's fields.

Read from the model itself (``_meta``), so the reference cannot drift from the
code: name, type, and the field's label, help text and choices.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.module_loading import import_string
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _describe(field: models.Field[Any, Any]) -> str:
    parts = [str(field.verbose_name).capitalize()]
    if field.help_text:
        parts.append(str(field.help_text))
    if field.choices:
        parts.append(
            "One of " + ", ".join(f"``{value}`` ({label})" for value, label in field.flatchoices)
        )
    if field.is_relation and field.related_model is not None:
        target = field.related_model
        name = "itself" if target is field.model else f"``{target.__name__}``"
        parts.append(f"Points to {name}")
    return ". ".join(p.rstrip(".") for p in parts) + "."


def _type(field: models.Field[Any, Any]) -> str:
    kind = type(field).__name__
    extras = []
    if getattr(field, "max_length", None) and isinstance(field, models.CharField):
        extras.append(str(field.max_length))
    if field.null:
        extras.append("null")
    if field.unique and not field.primary_key:
        extras.append("unique")
    return f"{kind} ({', '.join(extras)})" if extras else kind


class ModelFields(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        model = import_string(self.arguments[0])
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 20 60", ""]
        lines += ["   * - field", "     - type", "     - meaning"]
        for field in model._meta.get_fields():
            if not field.concrete or (field.auto_created and not field.primary_key):
                continue
            lines += [f"   * - ``{field.name}``", f"     - {_type(field)}"]
            lines.append(f"     - {_describe(field)}")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.arguments[0]), 0, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("smsgo-model-fields", ModelFields)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
