"""The attendance and hours catalogs: every string translated, nothing fuzzy, and the .mo matches the .po."""

import pytest
from django.utils import translation

import leifeng.attendance
import leifeng.hours
from leifeng.testing import assert_catalog_complete


@pytest.mark.parametrize("app", [leifeng.attendance, leifeng.hours])
def test_every_string_is_translated_and_compiled(app):
    assert_catalog_complete(app, min_entries=40)


def test_the_words_volunteers_know():
    from leifeng.attendance.models import RollMark
    from leifeng.hours.models import RecordKind

    with translation.override("zh-hans"):
        assert [str(x) for x in RollMark.labels] == ["到", "迟到", "缺席"]
        assert str(translation.gettext("Duration code")) == "时长码"
        assert [str(x) for x in RecordKind.labels] == ["签到签退记录", "事后补录"]
