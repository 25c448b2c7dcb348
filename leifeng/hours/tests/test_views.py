"""'My hours' and the hours review with the three personas."""

import pytest
from django.urls import reverse

from leifeng.attendance import services as attendance
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.hours import services
from leifeng.hours.models import CorrectionRequest, HoursClaim, ServiceRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(activity, post, vol):
    """李娜 served the post 08:00–10:00, checked in and out at the kiosk."""
    for key, moment in (("i", at(0)), ("o", at(2))):
        attendance.check(actor=vol.user, token=attendance.kiosk_token(activity, now=moment), key=key, now=moment)
    return ServiceRecord.objects.get()


def test_my_hours_shows_totals_star_progress_and_records(client_for, served, vol):
    page = client_for(vol.user).get(reverse("hours:my_hours"))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="verified">2.0<' in body and "☆☆☆☆☆" in body and 'value="2"' in body  # 2 of 100 h: 2 %
    assert "文明交通劝导 · 路口劝导岗" in body and ">120<" in body


def test_volunteer_asks_for_a_correction_and_organizer_answers(client_for, served, vol, owner, colleague, outsider):
    client_for(vol.user).post(
        reverse("hours:correction_request", args=[served.pk]), {"minutes": "100", "reason": "提前离开"}
    )
    req = CorrectionRequest.objects.get()
    review = reverse("hours:review", args=[served.activity_id])
    for user in (owner, colleague):
        body = client_for(user).get(review).content.decode()
        assert "提前离开" in body and 'id="todo">1<' in body
    assert client_for(outsider).get(review).status_code == 404
    assert (
        client_for(outsider).post(reverse("hours:correction_answer", args=[req.pk]), {"decision": "accept"}).status_code
        == 404
    )
    client_for(owner).post(
        reverse("hours:correction_answer", args=[req.pk]), {"decision": "accept", "minutes": "100", "next": review}
    )
    req.refresh_from_db()
    assert req.status == "accepted"
    body = client_for(vol.user).get(reverse("hours:my_hours")).content.decode()
    assert 'id="verified">1.6<' in body  # 100 minutes


def test_backfill_from_my_hours_approved_on_review(client_for, post, vol, owner):
    c = client_for(vol.user)
    beyond = c.post(
        reverse("hours:claim_create"),
        {"post": post.pk, "started_at": "2026-03-05T08:00", "ended_at": "2026-03-05T12:00"},
        follow=True,
    )
    assert "2026-03-05 10:00" in beyond.content.decode()  # refused, naming the post's end (it was cut to it)
    assert not HoursClaim.objects.exists()
    c.post(
        reverse("hours:claim_create"),
        {"post": post.pk, "started_at": "2026-03-05T08:00", "ended_at": "2026-03-05T10:00"},
    )
    claim = HoursClaim.objects.get()
    assert claim.minutes == 120
    c.post(reverse("hours:claim_decide", args=[claim.pk]), {"decision": "approve"})
    claim.refresh_from_db()
    assert claim.status == "pending"  # the volunteer cannot approve their own
    client_for(owner).post(reverse("hours:claim_decide", args=[claim.pk]), {"decision": "approve"})
    claim.refresh_from_db()
    assert claim.status == "approved"
    body = client_for(vol.user).get(reverse("hours:my_hours")).content.decode()
    assert 'id="backfilled">2<' in body and 'id="verified">0.0<' in body


def test_review_lists_flagged_and_no_shows(client_for, activity, post, vol, owner, make_volunteer):
    never = make_volunteer(name="赵敏")
    sign_up(post, never)
    attendance.check(actor=vol.user, token=attendance.kiosk_token(activity, now=at(0)), key="k", now=at(0))
    attendance.close_attendance(now=at(3))
    body = client_for(owner).get(reverse("hours:review", args=[activity.pk])).content.decode()
    flagged = body[body.index('id="flagged"') :]
    assert "李娜" in flagged[: flagged.index("</ul>")]
    no_shows = body[body.index('id="no-shows"') :]
    assert "赵敏" in no_shows[: no_shows.index("</ul>")]


def test_review_query_count_does_not_grow(client_for, activity, post, owner, make_volunteer, django_assert_num_queries):
    def serve(n):
        for _ in range(n):
            v = make_volunteer()
            sign_up(post, v)
            attendance.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=v.pk, mark="present", now=at(3))

    serve(2)
    c = client_for(owner)
    url = reverse("hours:review", args=[activity.pk])
    c.get(url)
    # session with its account, roles and volunteer flag (accounts.middleware), activity with org, totals,
    # corrections, claims, records count, records page, flagged, no-shows, posts
    with django_assert_num_queries(10):
        c.get(url)
    serve(5)
    with django_assert_num_queries(10):
        c.get(url)


def test_organizer_corrects_directly(client_for, served, owner, colleague):
    url = reverse("hours:record_correct", args=[served.pk])
    client_for(colleague).post(url, {"minutes": "90", "reason": "核对签到表"})
    assert services.ServiceRecord.objects.filter(reverses=served).exists()
    from leifeng.hours import selectors

    assert selectors.totals(volunteer=served.volunteer) == 90


def test_pages_need_login(client, activity):
    assert client.get(reverse("hours:my_hours")).status_code == 302
    assert client.get(reverse("hours:review", args=[activity.pk])).status_code == 302
