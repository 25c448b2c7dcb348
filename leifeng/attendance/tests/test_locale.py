"""The attendance and hours catalogs: every string translated, nothing fuzzy, and the .mo matches the .po."""

import gettext
from pathlib import Path

import pytest
from django.utils import translation

import leifeng.attendance
import leifeng.hours
from leifeng.teams.tests.test_locale import entries


@pytest.mark.parametrize("app", [leifeng.attendance, leifeng.hours])
def test_every_string_is_translated_and_compiled(app):
    po = Path(app.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"
    text = po.read_text(encoding="utf-8")
    rows = entries(text)
    assert len(rows) > 40
    assert [r["msgid"] for r in rows if not r.get("msgstr")] == []
    assert "#, fuzzy" not in text
    with open(po.with_suffix(".mo"), "rb") as f:
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
    assert stale == [], "compile the catalog (compilemessages)"


def test_the_words_volunteers_know():
    from leifeng.attendance.models import RollMark
    from leifeng.hours.models import RecordKind

    with translation.override("zh-hans"):
        assert [str(x) for x in RollMark.labels] == ["到", "迟到", "缺席"]
        assert str(translation.gettext("Duration code")) == "时长码"
        assert [str(x) for x in RecordKind.labels] == ["签到签退记录", "事后补录"]
