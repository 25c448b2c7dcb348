"""Simplified Chinese by default, English on request (set_language); <html lang> follows."""

import gettext
import json
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
    assert "账号管理" in client.get(reverse("home:home")).content.decode()
    client.post(reverse("set_language"), {"language": "en"})
    html = client.get(reverse("home:home")).content.decode()
    assert "Accounts" in html and "Audit" in html and "账号管理" not in html


def test_browser_language_is_honoured(client, tree):
    html = client.get(LOGIN, headers={"Accept-Language": "en-US,en;q=0.9"}).content.decode()
    assert '<html lang="en">' in html


def _entries(po_text: str) -> list[tuple[str, str | None, str, str | None]]:
    """(msgid, msgid_plural, msgstr or msgstr[0], msgctxt) of every entry but the header, read from the .po."""
    out = []
    for block in po_text.split("\n\n")[1:]:
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr|msgstr\[0\]) (".*")$', line)
            if m:
                key = m.group(1).replace("[0]", "")
                fields[key] = json.loads(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        out.append((fields["msgid"], fields.get("msgid_plural"), fields.get("msgstr", ""), fields.get("msgctxt")))
    return out


def test_catalog_is_complete_and_compiled():
    """Every msgid of our catalog has a translation, nothing is fuzzy, and the committed .mo says the same."""
    po = Path(settings.BASE_DIR) / "leifeng/locale/zh_Hans/LC_MESSAGES/django.po"
    text = po.read_text(encoding="utf-8")
    entries = _entries(text)
    assert len(entries) > 150
    assert [msgid for msgid, _plural, msgstr, _ctx in entries if not msgstr] == []
    assert "#, fuzzy" not in text
    with open(po.with_suffix(".mo"), "rb") as f:
        mo = gettext.GNUTranslations(f)

    def compiled(msgid, plural, ctx):
        if ctx:
            return mo.npgettext(ctx, msgid, plural, 1) if plural else mo.pgettext(ctx, msgid)
        return mo.ngettext(msgid, plural, 1) if plural else mo.gettext(msgid)

    stale = [msgid for msgid, plural, msgstr, ctx in entries if compiled(msgid, plural, ctx) != msgstr]
    assert stale == [], "run compilemessages"
