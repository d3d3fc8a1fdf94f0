"""The ``.. code-block::`` directives of a reStructuredText page, in document order.

Enough of reStructuredText for the quickstart test: a directive line, its
``:option: value`` lines, a blank line, then the indented content.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. code-block:: *(?P<language>\S+)\s*$")
_OPTION = re.compile(r"^\s+:(?P<name>[\w-]+):\s*(?P<value>.*)$")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    caption: str
    code: str
    line: int  # 1-based line of the directive, for error messages

    def commands(self) -> list[str]:
        """The ``$ ``-prefixed lines of a console block, without the prompt."""
        return [line[2:] for line in self.code.splitlines() if line.startswith("$ ")]


def code_blocks(path: Path) -> list[CodeBlock]:
    """Every code block of the page at ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[CodeBlock] = []
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        index += 1
        if not match:
            continue
        start = index
        indent = len(match["indent"])
        options: dict[str, str] = {}
        while index < len(lines) and (option := _OPTION.match(lines[index])):
            options[option["name"]] = option["value"].strip()
            index += 1
        body: list[str] = []
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            index += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(CodeBlock(match["language"], options.get("caption", ""), code, start))
    return blocks
