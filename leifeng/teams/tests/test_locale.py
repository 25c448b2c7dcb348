"""The teams catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

import gettext
import json
import re
from pathlib import Path

import leifeng.teams

PO = Path(leifeng.teams.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


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


def test_levels_kinds_and_categories_read_as_the_seeds_say():
    from django.utils import translation

    from leifeng.teams.models import TeamCategory, TeamKind, TeamLevel

    with translation.override("zh-hans"):
        assert [str(label) for label in TeamLevel.labels] == ["总队", "大队", "中队", "小分队", "小组"]
        assert [str(label) for label in TeamKind.labels] == ["固定队伍", "自选队伍"]
        labels = {str(label) for label in TeamCategory.labels}
    seeds = (
        "理论宣讲、文化文艺、助学支教、医疗健康、科学普及、法律服务、惠农助农、"
        "扶贫帮困、文明交通、应急救援、孝老敬老、移风易俗、邻里守望"
    )
    assert set(seeds.split("、")) | {"党员先锋", "文化惠民"} <= labels
