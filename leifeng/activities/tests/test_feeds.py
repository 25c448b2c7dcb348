"""iCalendar feeds: parsed back with icalendar, times in UTC, Chinese text and commas, token reset, query count."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from leifeng import testing
from leifeng.activities.models import Activity, ActivityStatus, Post, Signup, SignupStatus, Visibility

SHANGHAI = timezone.get_fixed_timezone(8 * 60)


def make_activity(org, *, title="文明交通劝导", status=ActivityStatus.PUBLISHED, posts=1, start=None, **kw):
    a = Activity.objects.create(
        org=org,
        title=title,
        category="other",
        address=kw.pop("address", "东关路口, 东北角"),
        status=status,
        published_at=timezone.now() if status != ActivityStatus.DRAFT else None,
        contact_name="李老师",
        contact_phone="13812345678",
        safety_notes="注意车辆；穿反光背心，不要进入机动车道",
        **kw,
    )
    start = start or datetime(2026, 12, 1, 7, 30, tzinfo=SHANGHAI)
    for i in range(posts):
        Post.objects.create(
            activity=a,
            title=f"第{i + 1}岗",
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=2),
            quota=5,
        )
    return a


def events(resp):
    assert resp.status_code == 200
    assert resp["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(resp.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.mark.django_db
class TestNodeFeed:
    def test_events_of_the_subtree_with_utc_times_and_escaped_text(self, client, tree):
        a = make_activity(tree.st_a1, latitude="34.260000", longitude="108.940000")
        make_activity(tree.st_b1, title="北村活动")  # another subtree
        make_activity(tree.st_a2, title="草稿", status=ActivityStatus.DRAFT)
        make_activity(tree.st_a2, title="只给队伍", visibility=Visibility.TEAMS)
        resp = client.get(reverse("activities:feed_node", args=[tree.sub_a.pk]))
        evs = events(resp)
        post = a.posts.get()
        assert list(evs) == [f"post-{post.pk}@127.0.0.1"]
        ev = evs[f"post-{post.pk}@127.0.0.1"]
        assert ev["SUMMARY"] == "文明交通劝导 · 第1岗"
        assert ev.decoded("DTSTART") == datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
        assert ev.decoded("DTEND") == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
        assert b"DTSTART:20261130T233000Z" in resp.content
        assert ev["LOCATION"] == "东关路口, 东北角"
        assert b"LOCATION:\xe4\xb8\x9c\xe5\x85\xb3\xe8\xb7\xaf\xe5\x8f\xa3\\, " in resp.content  # comma escaped
        assert "穿反光背心" in ev["DESCRIPTION"]
        assert (ev["GEO"].latitude, ev["GEO"].longitude) == (34.26, 108.94)
        assert ev["STATUS"] == "CONFIRMED"
        assert ev["URL"].endswith(f"/activities/{a.pk}/")
        # Public feed: no personal data.
        assert "13812345678" not in resp.content.decode()

    def test_cancelled_activity_is_marked_cancelled(self, client, tree):
        a = make_activity(tree.st_a1, status=ActivityStatus.CANCELLED, cancel_reason="大雨")
        (ev,) = events(client.get(reverse("activities:feed_node", args=[tree.st_a1.pk]))).values()
        assert ev["STATUS"] == "CANCELLED" and "大雨" in ev["DESCRIPTION"]
        before = int(ev["SEQUENCE"])
        Activity.objects.filter(pk=a.pk).update(updated_at=timezone.now() + timedelta(hours=1))
        (ev,) = events(client.get(reverse("activities:feed_node", args=[tree.st_a1.pk]))).values()
        assert int(ev["SEQUENCE"]) > before

    def test_unchanged_feed_answers_304(self, client, tree):
        a = make_activity(tree.st_a1)
        url = reverse("activities:feed_node", args=[tree.st_a1.pk])
        etag = client.get(url)["ETag"]
        r = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert r.status_code == 304 and r.content == b""
        Activity.objects.filter(pk=a.pk).update(title="新标题", updated_at=timezone.now() + timedelta(minutes=5))
        r = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert r.status_code == 200 and "新标题" in r.content.decode()

    def test_unknown_node_is_404(self, client, tree):
        assert client.get(reverse("activities:feed_node", args=[99999])).status_code == 404

    def test_query_count_does_not_grow_with_activities(self, client, tree, django_assert_num_queries):
        make_activity(tree.st_a1, posts=2)
        url = reverse("activities:feed_node", args=[tree.center.pk])
        # 1 node, 2 posts with their activity and organizer
        with django_assert_num_queries(2):
            assert len(events(client.get(url))) == 2
        for i in range(5):
            make_activity(tree.st_a2, title=f"活动{i}", posts=2)
        with django_assert_num_queries(2):
            assert len(events(client.get(url))) == 12


@pytest.mark.django_db
class TestFinishedActivities:
    """Activities finish on their own when their last post ends: their events stay in calendars (CONFIRMED) for
    half a year after they end, then drop out, so the feeds do not grow forever."""

    def test_node_feed_keeps_finished_events_for_half_a_year(self, client, tree, django_assert_num_queries):
        now = timezone.now()
        last_week = make_activity(
            tree.st_a1, title="上周的活动", status=ActivityStatus.FINISHED, start=now - timedelta(days=7)
        )
        recent = make_activity(
            tree.st_a2, title="五个月前", status=ActivityStatus.FINISHED, start=now - timedelta(days=150)
        )
        make_activity(tree.st_a1, title="七个月前", status=ActivityStatus.FINISHED, start=now - timedelta(days=210))
        make_activity(
            tree.st_a1, title="七个月前取消", status=ActivityStatus.CANCELLED, start=now - timedelta(days=210)
        )
        coming = make_activity(tree.st_a1, title="下周的活动", start=now + timedelta(days=7))
        url = reverse("activities:feed_node", args=[tree.sub_a.pk])
        # 1 node, 2 posts with their activity and organizer: finished activities add no query
        with django_assert_num_queries(2):
            evs = events(client.get(url))
        assert sorted(str(e["SUMMARY"]).split(" · ")[0] for e in evs.values()) == [
            "上周的活动",
            "下周的活动",
            "五个月前",
        ]
        for a in (last_week, recent, coming):
            assert evs[f"post-{a.posts.get().pk}@127.0.0.1"]["STATUS"] == "CONFIRMED"

    def test_activity_finished_by_the_clock_stays_and_the_etag_moves(self, client, tree):
        from leifeng.activities.services import activities_advance

        now = timezone.now()
        a = make_activity(tree.st_a1, status=ActivityStatus.IN_PROGRESS, start=now - timedelta(hours=5))
        uid = f"post-{a.posts.get().pk}@127.0.0.1"
        url = reverse("activities:feed_node", args=[tree.st_a1.pk])
        first = client.get(url)
        assert list(events(first)) == [uid]
        before = int(events(first)[uid]["SEQUENCE"])
        Activity.objects.filter(pk=a.pk).update(updated_at=now - timedelta(hours=1))  # last edited an hour ago
        etag = client.get(url)["ETag"]
        assert activities_advance(now=now) == {"started": 0, "finished": 1}
        after = client.get(url, HTTP_IF_NONE_MATCH=etag)  # the calendar app's hourly poll
        assert after.status_code == 200 and after["ETag"] != etag
        ev = events(after)[uid]
        assert ev["STATUS"] == "CONFIRMED" and int(ev["SEQUENCE"]) >= before
        assert client.get(url, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304

    def test_my_shifts_keep_finished_activities_for_half_a_year(self, client, tree, django_assert_num_queries):
        from leifeng.notifications.services import feed_token_for

        vol = testing.make_volunteer_user("vol", org=tree.st_a1)
        now = timezone.now()
        kept = make_activity(
            tree.st_a1, title="上月服务", status=ActivityStatus.FINISHED, start=now - timedelta(days=30)
        )
        gone = make_activity(
            tree.st_a1, title="去年服务", status=ActivityStatus.FINISHED, start=now - timedelta(days=200)
        )
        for a in (kept, gone):
            p = a.posts.get()
            Signup.objects.create(
                post=p, volunteer=vol.volunteer, status=SignupStatus.CONFIRMED, starts_at=p.starts_at, ends_at=p.ends_at
            )
        url = reverse("activities:feed_mine", args=[feed_token_for(user=vol).token])
        # 1 token with its user, 1 sign-up with post, activity, organizer and group
        with django_assert_num_queries(2):
            evs = events(client.get(url))
        assert list(evs) == [f"post-{kept.posts.get().pk}@127.0.0.1"]
        (ev,) = evs.values()
        assert ev["STATUS"] == "CONFIRMED" and "13812345678" in ev["DESCRIPTION"]


@pytest.mark.django_db
class TestMyShifts:
    @pytest.fixture
    def vol(self, tree):
        return testing.make_volunteer_user("vol", org=tree.st_a1)

    def signup(self, post, user, status=SignupStatus.CONFIRMED):
        return Signup.objects.create(
            post=post, volunteer=user.volunteer, status=status, starts_at=post.starts_at, ends_at=post.ends_at
        )

    def test_links_page_and_personal_feed(self, client_for, client, tree, vol):
        a = make_activity(tree.st_a1, posts=3)
        p1, p2, p3 = a.posts.all()
        self.signup(p1, vol)
        self.signup(p2, vol, status=SignupStatus.WITHDRAWN)
        other = testing.make_volunteer_user("other", org=tree.st_a1)
        self.signup(p3, other)
        page = client_for(vol).get(reverse("activities:feed_links"))
        assert page.status_code == 200
        token = vol.feed_token.token
        mine = reverse("activities:feed_mine", args=[token])
        assert mine in page.content.decode() and "webcal://" in page.content.decode()
        assert reverse("activities:feed_node", args=[tree.st_a1.pk]) in page.content.decode()
        client.logout()
        evs = events(client.get(mine))  # a calendar app: not logged in
        assert list(evs) == [f"post-{p1.pk}@127.0.0.1"]
        assert "李老师 13812345678" in evs[f"post-{p1.pk}@127.0.0.1"]["DESCRIPTION"]

    def test_reset_kills_the_old_url(self, client_for, tree, vol):
        c = client_for(vol)
        c.get(reverse("activities:feed_links"))
        old = reverse("activities:feed_mine", args=[vol.feed_token.token])
        assert c.get(old).status_code == 200
        assert c.post(reverse("activities:feed_reset")).status_code == 302
        vol.feed_token.refresh_from_db()
        assert c.get(old).status_code == 404
        assert c.get(reverse("activities:feed_mine", args=[vol.feed_token.token])).status_code == 200

    def test_feed_links_needs_login(self, client, tree):
        assert client.get(reverse("activities:feed_links")).status_code == 302

    @pytest.mark.parametrize("persona", ["owner", "colleague", "outsider"])
    def test_staff_personas_see_their_nodes(self, request, client_for, tree, persona):
        user = request.getfixturevalue(persona)
        body = client_for(user).get(reverse("activities:feed_links")).content.decode()
        home = tree.st_b1 if persona == "outsider" else tree.st_a1
        assert reverse("activities:feed_node", args=[home.pk]) in body

    def test_query_count_does_not_grow_with_shifts(self, client, tree, vol, django_assert_num_queries):
        from leifeng.notifications.services import feed_token_for

        url = reverse("activities:feed_mine", args=[feed_token_for(user=vol).token])
        a = make_activity(tree.st_a1, posts=1)
        self.signup(a.posts.get(), vol)
        # 1 token with its user, 2 sign-ups with post, activity, organizer and group
        with django_assert_num_queries(2):
            assert len(events(client.get(url))) == 1
        for i in range(4):
            b = make_activity(tree.st_a2, title=f"活动{i}", posts=1)
            self.signup(b.posts.get(), vol)
        with django_assert_num_queries(2):
            assert len(events(client.get(url))) == 5
