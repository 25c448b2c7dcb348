"""The notifications catalog: every string translated, nothing fuzzy, and the committed .mo matches the .po."""

from django.utils import translation

import leifeng.notifications
from leifeng.testing import assert_catalog_complete


def test_every_string_is_translated_and_compiled():
    assert_catalog_complete(leifeng.notifications, min_entries=100)


def test_delivery_statuses_read_in_chinese():
    from leifeng.notifications.models import DeliveryStatus

    with translation.override("zh-hans"):
        labels = [str(label) for label in DeliveryStatus.labels]
    assert labels[:5] == ["待发送", "发送中", "已送达", "失败", "未发送"]
