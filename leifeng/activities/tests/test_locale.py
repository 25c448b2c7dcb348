"""The activities catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

from datetime import date

import leifeng.activities
from leifeng.testing import assert_catalog_complete


def test_every_string_is_translated_and_compiled():
    assert_catalog_complete(leifeng.activities, min_entries=150)


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
