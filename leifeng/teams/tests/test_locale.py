"""The teams catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

import leifeng.teams
from leifeng.testing import assert_catalog_complete


def test_every_string_is_translated_and_compiled():
    assert_catalog_complete(leifeng.teams, min_entries=150)


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


def test_the_catalog_check_catches_what_it_promises(tmp_path):
    """The shared check fails on an untranslated entry, a fuzzy one, a .mo older than its .po, a short catalog."""
    import subprocess

    import pytest

    po = tmp_path / "django.po"
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    good = header + 'msgid "Team"\nmsgstr "服务队"\n\nmsgctxt "order"\nmsgid "Open"\n\nmsgstr "开放"\n'

    def write(text: str, compile_: bool = True) -> None:
        po.write_text(text, encoding="utf-8")
        if compile_:
            subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)

    write(good)
    assert len(assert_catalog_complete(po, min_entries=1)) == 2  # a blank line before msgstr is still read
    write(good.replace('msgstr "服务队"', 'msgstr ""'))
    with pytest.raises(AssertionError, match="untranslated"):
        assert_catalog_complete(po, min_entries=1)
    write(good.replace('msgid "Team"', '#, fuzzy\nmsgid "Team"'))
    with pytest.raises(AssertionError, match="fuzzy"):
        assert_catalog_complete(po, min_entries=1)
    write(good)
    write(good.replace("服务队", "志愿服务队"), compile_=False)
    with pytest.raises(AssertionError, match="compile"):
        assert_catalog_complete(po, min_entries=1)
    write(good)
    with pytest.raises(AssertionError, match="only 2 entries"):
        assert_catalog_complete(po, min_entries=5)
