"""The activities catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

import gettext
import json
import re
from datetime import date
from pathlib import Path

import leifeng.activities

PO = Path(leifeng.activities.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def entries(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.split("\n\n")[1:]:
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr|msgstr\[0\]) (".*")$', line)
            if m:
                key = m.group(1).replace("[0]", "")
                fields[key] = json.loads(m.group(2))
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        if "msgid" in fields:
            out.append(fields)
    return out


def test_every_string_is_translated_and_compiled():
    text = PO.read_text(encoding="utf-8")
    rows = entries(text)
    assert len(rows) > 150
    assert [r["msgid"] for r in rows if not r.get("msgstr")] == []
    assert "#, fuzzy" not in text
    with open(PO.with_suffix(".mo"), "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for r in rows:
        if "msgid_plural" in r:
            got = mo.ngettext(r["msgid"], r["msgid_plural"], 1)
        elif "msgctxt" in r:
            got = mo.pgettext(r["msgctxt"], r["msgid"])
        else:
            got = mo.gettext(r["msgid"])
        if got != r["msgstr"]:
            stale.append(r["msgid"])
    assert stale == [], "compile the catalog (msgfmt or compilemessages)"


def test_pages_speak_chinese_by_default(client_for, owner, tree):
    from leifeng.activities.models import ActivityStatus, Campaign

    c = Campaign.objects.create(org=tree.st_a1, title="学雷锋月", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31))
    from django.utils import translation

    from leifeng.activities.services import default_phases

    with translation.override("zh-hans"):
        assert [str(p.name) for p in default_phases(c.starts_on, c.ends_on)] == ["宣传启动", "组织实施", "总结表彰"]
        assert str(ActivityStatus.PUBLISHED.label) == "已发布"
    page = client_for(owner).get("/activities/manage/").content.decode()
    assert "新建活动" in page
