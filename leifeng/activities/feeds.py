"""iCalendar feeds (RFC 5545): one VEVENT per post.

* Node feed (public): the published, in-progress and finished activities of a node's subtree that are open to
  the whole subtree, plus cancelled ones that had been published (so subscribed calendars mark them cancelled).
  It is recruitment information and carries no personal data: no contact phone, no names of volunteers.
* "My shifts" (personal): the confirmed sign-ups of one volunteer, behind an unguessable token in the URL
  (calendar apps cannot log in); the volunteer can reset the token, which kills the old URL at once. It adds
  the contact person and phone and the group.

A finished activity stays in both feeds (STATUS:CONFIRMED): activities finish on their own once their last post
ends (`advance_activities`), and a subscribed calendar drops whatever the feed stops listing, so leaving them out
would wipe people's past shifts from their calendars. Every event stays for PAST_DAYS after it ends, whatever the
status, then drops out, so the feeds stay bounded.

Each feed is built with a constant number of queries whatever the number of activities.
"""

import hashlib
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event, vGeo

from leifeng.activities.models import ActivityStatus, Post, Signup, SignupStatus
from leifeng.activities.policy import activity_policy
from leifeng.notifications import texts
from leifeng.notifications.policy import home_nodes
from leifeng.orgs.models import Org

FEED_STATUSES = (
    ActivityStatus.PUBLISHED,
    ActivityStatus.IN_PROGRESS,
    ActivityStatus.FINISHED,
    ActivityStatus.CANCELLED,
)
PAST_DAYS = 180  # posts that ended longer ago than this drop out of the feeds (about half a year of history)
CONTENT_TYPE = "text/calendar; charset=utf-8"
SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def host() -> str:
    return urlparse(settings.SITE_URL).hostname or "leifeng"


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@cache
def _activity_path_pattern() -> str:
    """The activity page's path with a placeholder, reversed once (reversing per event is the slow part)."""
    for name in ("activities:activity_detail", "activities:detail"):
        try:
            return reverse(name, args=[987654321]).replace("987654321", "{pk}")
        except NoReverseMatch:
            continue
    return "/activities/{pk}/"


def activity_url(activity_id: int) -> str:
    return absolute(_activity_path_pattern().format(pk=activity_id))


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def sequence_of(modified: datetime) -> int:
    """SEQUENCE must grow whenever the event changes; minutes since an epoch of the last change do that."""
    return max(0, int((modified - SEQUENCE_EPOCH).total_seconds() // 60))


def post_event(post: Post, *, personal: bool = False, group: str = "") -> Event:
    a = post.activity
    ev = Event()
    ev.add("uid", f"post-{post.pk}@{host()}")
    ev.add("dtstamp", _utc(a.updated_at))
    ev.add("last-modified", _utc(a.updated_at))
    ev.add("sequence", sequence_of(a.updated_at))
    ev.add("dtstart", _utc(post.starts_at))
    ev.add("dtend", _utc(post.ends_at))
    ev.add("summary", f"{a.title} · {post.title}")
    ev.add("location", a.address)
    if a.latitude is not None and a.longitude is not None:
        ev.add("geo", vGeo((float(a.latitude), float(a.longitude))))
    lines = [str(texts.ORGANIZER) % {"org": a.org.name}]
    if post.description:
        lines.append(post.description)
    if a.description:
        lines.append(a.description)
    if personal:
        if group:
            lines.append(str(texts.GROUP) % {"group": group})
        if a.contact_name or a.contact_phone:
            lines.append(str(texts.CONTACT) % {"contact": f"{a.contact_name} {a.contact_phone}".strip()})
    if a.supplies:
        items = "、".join(s.strip() for s in a.supplies.splitlines() if s.strip())
        lines.append(str(texts.BRING) % {"items": items})
    if a.safety_notes:
        lines.append(str(texts.SAFETY) % {"notes": a.safety_notes})
    if a.status == ActivityStatus.CANCELLED and a.cancel_reason:
        lines.append(str(texts.CANCELLED) % {"reason": a.cancel_reason})
    ev.add("description", "\n".join(lines))
    ev.add("url", activity_url(a.pk))
    ev.add("status", "CANCELLED" if a.status == ActivityStatus.CANCELLED else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    return ev


def new_calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//leifeng//volunteer activities//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "UTC")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def node_posts(org: Org, *, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Post.objects.filter(
            activity_policy.public_under_q(org, "activity__"),
            activity__status__in=FEED_STATUSES,
            ends_at__gte=now - timedelta(days=PAST_DAYS),
        )
        .select_related("activity__org")
        .order_by("starts_at", "id")
    )


def node_calendar(org: Org, *, now: datetime | None = None) -> bytes:
    cal = new_calendar(str(texts.NODE_CALENDAR) % {"node": org.name})
    for post in node_posts(org, now=now):
        cal.add_component(post_event(post))
    return cal.to_ical()


def my_signups(user, *, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Signup.objects.filter(
            volunteer__user=user,
            status=SignupStatus.CONFIRMED,
            post__activity__status__in=FEED_STATUSES,
            ends_at__gte=now - timedelta(days=PAST_DAYS),
        )
        .select_related("post__activity__org", "group")
        .order_by("starts_at", "id")
    )


def my_calendar(user, *, now: datetime | None = None) -> bytes:
    cal = new_calendar(str(texts.MY_CALENDAR))
    for s in my_signups(user, now=now):
        cal.add_component(post_event(s.post, personal=True, group=str(s.group) if s.group_id else ""))
    return cal.to_ical()


def _ics(request: HttpRequest, body: bytes, *, filename: str, private: bool) -> HttpResponse:
    """The calendar, or 304 when the client's copy (ETag) is current: calendar apps poll every hour."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        resp = HttpResponseNotModified()
    else:
        resp = HttpResponse(body, content_type=CONTENT_TYPE)
    resp["ETag"] = etag
    resp["Content-Disposition"] = f'inline; filename="{filename}"'
    resp["Cache-Control"] = "private, no-store" if private else "public, max-age=300"
    if private:
        resp["X-Robots-Tag"] = "noindex"
        resp["Referrer-Policy"] = "no-referrer"
    return resp


# ---------------------------------------------------------------- views


def node_feed(request: HttpRequest, org_id: int) -> HttpResponse:
    """Public: anyone may subscribe to a node's recruitment calendar."""
    org = Org.objects.filter(pk=org_id).first()
    if org is None:
        raise Http404
    return _ics(request, node_calendar(org), filename=f"node-{org.pk}.ics", private=False)


def my_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Personal: the token is the only credential; a reset token answers 404 like one that never existed."""
    from leifeng.notifications.models import FeedToken

    ft = FeedToken.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if ft is None:
        raise Http404
    return _ics(request, my_calendar(ft.user), filename="my-shifts.ics", private=True)


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[-1]


@login_required
def feed_links(request: HttpRequest) -> HttpResponse:
    from leifeng.notifications.services import feed_token_for

    token = feed_token_for(user=request.user)
    mine = request.build_absolute_uri(reverse("activities:feed_mine", args=[token.token]))
    nodes = []
    for org in home_nodes(request.user):
        url = request.build_absolute_uri(reverse("activities:feed_node", args=[org.pk]))
        nodes.append({"org": org, "url": url, "webcal": _webcal(url)})
    context = {"mine": mine, "mine_webcal": _webcal(mine), "nodes": nodes, "token_created": token.created_at}
    return render(request, "notifications/feed_links.html", context)


@login_required
@require_POST
def feed_reset(request: HttpRequest) -> HttpResponse:
    from leifeng.notifications.services import feed_token_reset

    feed_token_reset(actor=request.user)
    messages.success(request, str(texts.TOKEN_RESET))
    return redirect("activities:feed_links")
