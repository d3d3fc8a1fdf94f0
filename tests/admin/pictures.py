"""Where the admin pictures of the docs are written.

Into ``docs/_static/admin/`` only when asked (``SMSGO_DOCS_SCREENSHOTS=1``),
else into ``test-artifacts/admin/``, so an ordinary test run never changes
the docs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PICTURES = (
    ROOT / "docs" / "_static" / "admin"
    if os.environ.get("SMSGO_DOCS_SCREENSHOTS")
    else ROOT / "test-artifacts" / "admin"
)


def save_picture(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Take ``page`` as ``PICTURES/<name>.png`` and return the file."""
    PICTURES.mkdir(parents=True, exist_ok=True)
    path = PICTURES / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
