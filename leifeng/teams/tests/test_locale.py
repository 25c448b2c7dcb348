"""The teams catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

import leifeng.teams
from leifeng.core.testing import assert_catalog_complete


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
