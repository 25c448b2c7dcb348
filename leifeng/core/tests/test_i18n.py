"""Simplified Chinese by default, English on request (set_language); <html lang> follows."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

LOGIN = reverse("accounts:login")


def test_chinese_by_default(client, tree):
    html = client.get(LOGIN).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "手机号或用户名" in html and "Log in" not in html


def test_english_after_switching_and_back(client, tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    html = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html and "Mobile number or user name" in html and "登录" not in html
    assert 'value="zh-hans"' in html  # the switch offers the way back
    client.post(reverse("set_language"), {"language": "zh-hans", "next": LOGIN})
    assert '<html lang="zh-hans">' in client.get(LOGIN).content.decode()


def test_logged_in_pages_follow_the_switch(client_for, owner):
    client = client_for(owner)
    assert "账号管理" in client.get(reverse("core:home")).content.decode()
    client.post(reverse("set_language"), {"language": "en"})
    html = client.get(reverse("core:home")).content.decode()
    assert "Accounts" in html and "Audit" in html and "账号管理" not in html


def test_browser_language_is_honoured(client, tree):
    html = client.get(LOGIN, headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert '<html lang="en">' in html


def _untranslated(po_text: str) -> list[str]:
    """msgids whose msgstr (or msgstr[0]) is empty, read straight from the .po file."""
    missing = []
    for entry in po_text.split("\n\n")[1:]:  # the first entry is the header
        lines = [ln for ln in entry.splitlines() if not ln.startswith("#")]
        text = "\n".join(lines)
        msgid, _, rest = text.partition("msgstr")
        translated = "".join(re.findall(r'"(.*)"', rest.split("]", 1)[-1] if rest.startswith("[") else rest))
        if not translated:
            missing.append(msgid)
    return missing


def test_catalog_is_complete_and_compiled():
    """Every msgid of our catalog has a translation, nothing fuzzy, and the .mo is not older than the .po."""
    po = Path(settings.BASE_DIR) / "leifeng/locale/zh_Hans/LC_MESSAGES/django.po"
    mo = po.with_suffix(".mo")
    text = po.read_text(encoding="utf-8")
    assert _untranslated(text) == []
    assert "#, fuzzy" not in text
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1
