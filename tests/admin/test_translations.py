"""The catalogues: complete in Traditional Chinese, compiled, and used by the console."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.utils import translation

from tests.admin.conftest import ADD, CHANGELIST

LOCALE = Path(__file__).resolve().parents[2] / "django_smsgo" / "locale"


def entries(po: Path) -> list[tuple[str, list[str]]]:
    """(msgid, msgstrs) of every entry of a .po file (obsolete ones left out)."""
    text = po.read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        if not lines:
            continue
        joined = "\n".join(lines)
        msgid = "".join(
            re.findall(r'^(?:msgid|msgid_plural)? ?"(.*)"$', joined.split("msgstr")[0], re.M)
        )
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', joined, re.M)
        found.append((msgid, [a + "".join(re.findall(r'"(.*)"', b)) for a, b in strs]))
    return [(m, s) for m, s in found if m]


def test_every_string_has_a_traditional_chinese_translation():
    po = LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, strs in entries(po) if not strs or not all(strs)]
    assert missing == []
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")


def test_makemessages_finds_nothing_untranslated(tmp_path: Path) -> None:
    """Every string marked anywhere in the package has a Traditional Chinese translation.

    ``makemessages`` runs over a copy of the whole package (code, templates,
    the client's ``gettext_noop`` reasons); the catalogue it writes must have
    no empty and no fuzzy entry, so a new string without its translation fails
    here rather than showing English in the Chinese console.
    """
    copy = tmp_path / "django_smsgo"
    shutil.copytree(
        LOCALE.parent, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static")
    )
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "zh_Hant", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env=environment,
    )
    po = copy / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
    missing = [msgid for msgid, strs in entries(po) if not strs or not all(strs)]
    assert missing == [], f"untranslated: {missing}"
    fuzzy = [b for b in po.read_text(encoding="utf-8").split("\n\n") if "#, fuzzy" in b]
    assert fuzzy == [], "fuzzy (check and translate): " + "\n\n".join(fuzzy)


def test_both_catalogues_are_compiled(tmp_path: Path) -> None:
    """The committed .mo files hold exactly what their .po files say (compiled afresh here)."""
    for language in ("zh_Hant", "en"):
        folder = LOCALE / language / "LC_MESSAGES"
        fresh = tmp_path / f"{language}.mo"
        subprocess.run(
            ["msgfmt", "--check-format", "-o", str(fresh), str(folder / "django.po")], check=True
        )
        committed = folder / "django.mo"
        assert committed.exists(), f"{committed} is missing: run compilemessages"
        assert _catalog(committed) == _catalog(fresh), f"{committed} is stale: compilemessages"


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as stream:
        return dict(gettext.GNUTranslations(stream)._catalog)  # type: ignore[attr-defined]


def test_the_console_speaks_traditional_chinese(client_as, sender, make_message):
    message = make_message(3)
    client = client_as(sender)
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-TW"}
    changelist = client.get(CHANGELIST, **headers).content.decode()
    assert "撰寫簡訊" in changelist
    assert "最近 7 天" in changelist
    compose = client.get(ADD, **headers).content.decode()
    assert "1. 收件人" in compose
    assert "台灣時間（Asia/Taipei，UTC+8）" in compose
    page = client.get(f"{CHANGELIST}{message.pk}/change/", **headers).content.decode()
    assert "草稿" in page
    assert "立即傳送…" in page


def test_model_names_statuses_and_permissions_are_translated(db):
    from django.contrib.auth.models import Permission

    from django_smsgo.models import Message

    with translation.override("zh-hant"):
        assert str(Message._meta.verbose_name) == "簡訊"
        assert str(Message.Status.COMPLETED.label) == "已完成"
        assert translation.gettext("Can send SMS") == "可以傳送簡訊"
    assert Permission.objects.filter(codename="send_sms").exists()
