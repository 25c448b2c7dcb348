"""Concurrent identical check-ins (a phone retrying while the first request is still running): one record.

Needs real concurrent transactions, so it runs on PostgreSQL only (scripts/with_postgres.py).
"""

import threading

import pytest
from django.db import connection

from leifeng.attendance import services
from leifeng.attendance.models import Attendance, CheckRequest
from leifeng.attendance.tests.conftest import at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"),
]


def test_concurrent_identical_check_ins_make_one_record(activity, post, vol):
    token = services.kiosk_token(activity, now=at(0))
    barrier = threading.Barrier(8)
    answers, errors = [], []

    def send():
        try:
            barrier.wait()
            answers.append(services.check(actor=vol.user, token=token, key="retry-storm", now=at(0)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({a.attendance.pk for a in answers}) == 1 and {a.action for a in answers} == {"in"}
    assert sum(not a.replayed for a in answers) == 1
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 1


def test_concurrent_check_ins_with_different_keys_open_one_presence(activity, post, vol):
    """Two taps with different keys at once: the sign-up lock orders them, the second checks out."""
    token = services.kiosk_token(activity, now=at(0, 30))
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def send(key):
        try:
            barrier.wait()
            answers.append(services.check(actor=vol.user, token=token, key=key, now=at(0, 30)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(a.action for a in answers) == ["in", "out"]
    assert Attendance.objects.filter(status="open").count() == 0
