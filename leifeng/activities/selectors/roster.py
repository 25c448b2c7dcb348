"""The organizer's roster: every post with its sign-ups and groups; the capped, grouped roster page."""

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import psycopg
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from leifeng.activities.models import (
    Activity,
    Post,
    Signup,
    SignupGroup,
    SignupStatus,
)
from leifeng.activities.policy import activity_policy
from leifeng.activities.selectors.page import _partial
from leifeng.core.roles import Perm
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer


@dataclass
class RosterPost:
    post: Post
    confirmed: list[Signup]
    waitlisted: list[Signup]
    ended: list[Signup]
    groups: list[SignupGroup]


def activity_roster(*, actor, activity: Activity) -> list[RosterPost]:
    """Every post with its sign-ups and groups, in three queries whatever the size (posts, sign-ups, groups)."""
    if not activity_policy.allows(actor, Perm.VIEW, activity):
        raise Http404
    posts = list(Post.objects.filter(activity=activity).order_by("starts_at", "pk"))
    signups = (
        Signup.objects.filter(post__activity=activity)
        .select_related("volunteer", "group")
        .only(
            "pk",
            "post_id",
            "status",
            "created_at",
            "assigned_by_id",
            "note",
            "guardian_consent",
            "group_id",
            "group__number",
            "group__name",
            "volunteer__id",
            "volunteer__name",
            "volunteer__number",
            "volunteer__phone",
            "volunteer__political_status",
        )
        .order_by("post_id", "created_at", "pk")
    )
    groups = SignupGroup.objects.filter(post__activity=activity).select_related("leader").order_by("post_id", "number")
    by_post: dict[int, RosterPost] = {p.pk: RosterPost(p, [], [], [], []) for p in posts}
    for s in signups:
        entry = by_post[s.post_id]
        if s.status == SignupStatus.CONFIRMED:
            entry.confirmed.append(s)
        elif s.status == SignupStatus.WAITLISTED:
            entry.waitlisted.append(s)
        else:
            entry.ended.append(s)
    members: dict[int, list[Signup]] = defaultdict(list)
    for entry in by_post.values():
        for s in entry.confirmed:
            if s.group_id:
                members[s.group_id].append(s)
    for g in groups:
        g.member_list = members.get(g.pk, [])
        by_post[g.post_id].groups.append(g)
    return list(by_post.values())


# ---------------------------------------------------------------- the roster page (capped, grouped)

ROSTER_OVERVIEW = 40  # people of each status shown per post on the overview; the rest behind "show all"
ROSTER_PAGE = 50
ENDED_STATUSES = (SignupStatus.WITHDRAWN, SignupStatus.REMOVED)
ROSTER_TABS = ("confirmed", "waitlisted", "ended")


@dataclass
class RosterSection:
    post: Post  # annotated: n_confirmed, n_waitlisted, n_ended
    people: list[dict]  # confirmed (or the tab's status on a post page), group by group; ROSTER_FIELDS
    waitlisted: list[dict]
    ended: list[dict]


@dataclass
class RosterView:
    sections: list[RosterSection]
    groups: dict[int, SignupGroup]  # of the posts shown, with leader and size
    post: Post | None = None  # a single post's page
    tab: str = "confirmed"
    page: object = None  # django Page on a post's page


ROSTER_FIELDS = (
    "pk",
    "post_id",
    "status",
    "assigned_by_id",
    "note",
    "guardian_consent",
    "group_id",
    "volunteer_id",
    "volunteer__name",
    "volunteer__number",
    "volunteer__phone",
)


def _roster_signups(activity: Activity, q: str) -> QuerySet[Signup]:
    qs = Signup.objects.filter(post__activity=activity)
    if q:
        qs = qs.filter(Q(volunteer__name__contains=q) | Q(volunteer__number__contains=q) | Q(volunteer__phone=q))
    return qs


def _mark_group_heads(people: list[dict], groups: dict[int, SignupGroup]) -> None:
    """The first person of each group in the list carries its header (number, leader, size)."""
    previous = -1
    for s in people:
        gid = s["group_id"]
        s["group_head"] = gid != previous
        s["group"] = groups.get(gid) if gid else None
        s["is_leader"] = s["group"] is not None and s["group"].leader_id == s["volunteer_id"]
        previous = gid


@cache
def _roster_sql() -> tuple[str, str]:
    """The overview's two statements on PostgreSQL, built once from the models' tables.

    Posts: the confirmed count is `filled` (kept exact by the sign-up services); the waitlist and those who
    left are counted over the (post, status) index. People: for each post and status, the first
    ROSTER_OVERVIEW in the page's order — group by group (walked in number order, stopping as soon as
    enough are found; not at all for a status nobody holds in a group: a partial index of the grouped), then
    the ungrouped by sign-up time (a partial index) — so a post of thousands costs what a post of forty does;
    no sort of the whole activity, as the window function needed.
    Each row carries its group's number, leader and confirmed size, and the volunteer's name, number, phone."""
    st, gt, pt, vt = (m._meta.db_table for m in (Signup, SignupGroup, Post, Volunteer))
    n = int(ROSTER_OVERVIEW)
    cols = "m.id, m.status, m.assigned_by_id, m.note, m.guardian_consent, m.group_id, m.volunteer_id, m.created_at"
    statuses = ", ".join(f"('{s}')" for s in (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, *ENDED_STATUSES))
    ended = ", ".join(f"'{s}'" for s in ENDED_STATUSES)
    posts = (
        f"SELECT p.id, p.title, p.starts_at, p.ends_at, p.quota, p.filled, "
        f"(SELECT count(*) FROM {st} s WHERE s.post_id = p.id AND s.status = '{SignupStatus.WAITLISTED}'), "
        f"(SELECT count(*) FROM {st} s WHERE s.post_id = p.id AND s.status IN ({ended})) "
        f"FROM {pt} p WHERE p.activity_id = %s ORDER BY p.starts_at, p.id"
    )
    people = (
        f"SELECT x.id, p.id, x.status, x.assigned_by_id, x.note, x.guardian_consent, x.group_id, x.volunteer_id, "
        f"v.name, v.number, v.phone, x.gnum, gi.leader_id, gi.leader_name, gi.gsize "
        f"FROM {pt} p CROSS JOIN (VALUES {statuses}) st (status) "
        f"CROSS JOIN LATERAL (SELECT * FROM ("
        # grouped: the groups of the post in number order, each group's people by sign-up time; skipped at
        # once for a status nobody of the post holds in a group (the waitlist, those who left)
        f"(SELECT 0 AS k, g.number AS gnum, {cols} "
        f"FROM (SELECT g.id, g.number FROM {gt} g WHERE g.post_id = p.id AND EXISTS (SELECT 1 FROM {st} e "
        f"WHERE e.post_id = p.id AND e.status = st.status AND e.group_id IS NOT NULL) ORDER BY g.number) g "
        f"CROSS JOIN LATERAL (SELECT * FROM {st} m WHERE m.group_id = g.id AND m.status = st.status "
        f"ORDER BY m.created_at, m.id LIMIT {n}) m ORDER BY g.number, m.created_at, m.id LIMIT {n}) "
        f"UNION ALL "
        # not in a group
        f"(SELECT 1, NULL, {cols} FROM {st} m "
        f"WHERE m.post_id = p.id AND m.status = st.status AND m.group_id IS NULL "
        f"ORDER BY m.created_at, m.id LIMIT {n})"
        f") u ORDER BY k, gnum, created_at, id LIMIT {n}) x "
        # per row shown (OFFSET 0: an index probe each, not a hash of every volunteer): the volunteer, and the
        # group's leader and confirmed size
        f"CROSS JOIN LATERAL (SELECT v.name, v.number, v.phone FROM {vt} v WHERE v.id = x.volunteer_id OFFSET 0) v "
        f"LEFT JOIN LATERAL (SELECT g.leader_id, l.name AS leader_name, (SELECT count(*) FROM {st} c "
        f"WHERE c.group_id = g.id AND c.status = '{SignupStatus.CONFIRMED}') AS gsize "
        f"FROM {gt} g LEFT JOIN {vt} l ON l.id = g.leader_id WHERE g.id = x.group_id OFFSET 0) gi ON true "
        f"WHERE p.activity_id = %s ORDER BY p.starts_at, p.id, x.k, x.gnum, x.created_at, x.id"
    )
    return posts, people


def _prepared(*statements: tuple[str, list]) -> list[list[tuple]]:
    """Run the statements through Django's cursor wrapper (counted, logged, errors wrapped like any query) on a
    psycopg cursor that binds on the server, so PostgreSQL prepares each one once the connection has run it
    `prepare_threshold` times (settings) and keeps it while the connection lives (CONN_MAX_AGE).

    Several statements run in one transaction under `plan_cache_mode = force_generic_plan` (SET LOCAL: for
    this transaction only): left to itself PostgreSQL kept re-planning the roster's statements with their
    parameters (custom plans: planning ~2 ms, more than running them) instead of reusing the plan.
    Elsewhere (SQLite) Django's own cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            results = []
            for sql, params in statements:
                cur.execute(sql, params)
                results.append(cur.fetchall())
            return results
    connection.ensure_connection()
    with (
        transaction.atomic(using=connection.alias, savepoint=False),
        connection._prepare_cursor(psycopg.Cursor(connection.connection)) as cur,
    ):
        if len(statements) > 1:
            cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        results = []
        for sql, params in statements:
            cur.execute(sql, params)
            results.append(cur.fetchall())
        return results


ROSTER_ACTIVITY_FIELDS = {"id", "title", "group_size", "org_id"}


@cache
def _roster_activity_sql() -> tuple[str, tuple[str, ...]]:
    """The statement and its columns, in the model's field order (what `Model.from_db` expects)."""
    at, ot = Activity._meta.db_table, Org._meta.db_table
    fields = tuple(f.attname for f in Activity._meta.concrete_fields if f.attname in ROSTER_ACTIVITY_FIELDS)
    cols = ", ".join(f"a.{f}" for f in fields)
    return f"SELECT {cols}, o.path FROM {at} a JOIN {ot} o ON o.id = a.org_id WHERE a.id = %s", fields


def _roster_activity(actor, rows: list[tuple]) -> Activity:
    """The activity from `_roster_activity_sql`'s rows if the actor may see its roster (Perm.VIEW at its
    node), else 404."""
    if not rows:
        raise Http404
    _sql, fields = _roster_activity_sql()
    *values, path = rows[0]
    activity = Activity.from_db(connection.alias, fields, values)
    activity.org = _partial(Org, id=activity.org_id, path=path)
    if not activity_policy.allows(actor, Perm.VIEW, activity):
        raise Http404
    return activity


def roster_activity(*, actor, activity_id: int) -> Activity:
    """The activity of a roster page for its organizers (Perm.VIEW at its node), else 404 — the same answer
    `activity_get` gives them, in one prepared statement of the few columns the page shows. The other
    fields are deferred (read on first use), the org carries its path only (what the scope check needs)."""
    sql, _fields = _roster_activity_sql()
    (rows,) = _prepared((sql, [activity_id]))
    return _roster_activity(actor, rows)


def _roster_overview_pg(activity: Activity, posts: list[tuple], people: list[tuple]) -> RosterView:
    """The overview (no search) on PostgreSQL from the rows of `_roster_sql`'s two statements."""
    activity_id = activity.pk
    by_post: dict[int, RosterSection] = {}
    for pk, title, starts_at, ends_at, quota, filled, n_waitlisted, n_ended in posts:
        p = Post(id=pk, activity_id=activity_id, title=title, starts_at=starts_at, ends_at=ends_at, quota=quota)
        p.filled = p.n_confirmed = filled
        p.n_waitlisted, p.n_ended = n_waitlisted, n_ended
        by_post[pk] = RosterSection(p, [], [], [])
    groups: dict[int, SignupGroup] = {}
    confirmed, waitlisted = SignupStatus.CONFIRMED.value, SignupStatus.WAITLISTED.value
    for pk, post_id, status, assigned_by_id, note, consent, gid, vid, name, number, phone, *group in people:
        # ROSTER_FIELDS as a literal (a third of dict(zip(...))'s cost), group heads marked on the way as
        # `_mark_group_heads` does: the rows of each post and status come in the page's order
        s = {
            "pk": pk,
            "post_id": post_id,
            "status": status,
            "assigned_by_id": assigned_by_id,
            "note": note,
            "guardian_consent": consent,
            "group_id": gid,
            "volunteer_id": vid,
            "volunteer__name": name,
            "volunteer__number": number,
            "volunteer__phone": phone,
        }
        g = None
        if gid is not None:
            g = groups.get(gid)
            if g is None:
                gnum, leader_id, leader_name, gsize = group
                g = SignupGroup(id=gid, post_id=post_id, number=gnum, leader_id=leader_id)
                if leader_id is not None:
                    g.leader = Volunteer(id=leader_id, name=leader_name)
                g.size = gsize
                groups[gid] = g
        entry = by_post[post_id]
        if status != confirmed and status != waitlisted:
            entry.ended.append(s)
            continue
        listed = entry.people if status == confirmed else entry.waitlisted
        s["group_head"] = not listed or listed[-1]["group_id"] != gid
        s["group"] = g
        s["is_leader"] = g is not None and g.leader_id == vid
        listed.append(s)
    return RosterView(sections=list(by_post.values()), groups=groups)


def roster_view(
    *, actor, activity: Activity, post_id: int | None = None, tab: str = "confirmed", q: str = "", page: str = "1"
) -> RosterView:
    """The organizer's roster in a constant number of queries whatever its size.

    Overview (no post_id): every post with its first ROSTER_OVERVIEW confirmed people ordered group by
    group, the first of its waitlist and of those who left, and the counts — three queries (posts with
    counts, sign-ups cut per post and status by a window function, groups with leader and size).
    A post's page: one status (tab), searchable, ROSTER_PAGE people a page — four queries.
    On PostgreSQL the overview without a search is two prepared statements instead (`_roster_sql`), the
    same content: the page organizers open most, and the one a busy day's benchmark asks for (issue #4).
    """
    if not activity_policy.allows(actor, Perm.VIEW, activity):
        raise Http404
    if post_id is None and not q and connection.vendor == "postgresql":
        posts_sql, people_sql = _roster_sql()
        posts, people = _prepared((posts_sql, [activity.pk]), (people_sql, [activity.pk]))
        return _roster_overview_pg(activity, posts, people)
    return _roster_view_orm(activity, post_id=post_id, tab=tab, q=q, page=page)


def roster_page(
    *, actor, activity_id: int, post_id: int | None = None, tab: str = "confirmed", q: str = "", page: str = "1"
) -> tuple[Activity, RosterView]:
    """The roster page's activity (`roster_activity`: Perm.VIEW at its node, else 404) and its roster
    (`roster_view`).

    The PostgreSQL overview reads the activity, the posts and the people in one transaction of three
    prepared statements (one round of BEGIN … COMMIT instead of two), the people read before the scope
    check: nothing of them is used unless the actor passes it, an outsider gets the same 404."""
    if post_id is None and not q and connection.vendor == "postgresql":
        activity_sql, _fields = _roster_activity_sql()
        posts_sql, people_sql = _roster_sql()
        rows, posts, people = _prepared(
            (activity_sql, [activity_id]), (posts_sql, [activity_id]), (people_sql, [activity_id])
        )
        activity = _roster_activity(actor, rows)  # 404 before anything else is looked at
        return activity, _roster_overview_pg(activity, posts, people)
    activity = roster_activity(actor=actor, activity_id=activity_id)
    return activity, _roster_view_orm(activity, post_id=post_id, tab=tab, q=q, page=page)


def _roster_view_orm(activity: Activity, *, post_id: int | None, tab: str, q: str, page: str) -> RosterView:
    """`roster_view` through the ORM: a post's page, a search, and the overview on SQLite (no LATERAL)."""
    from django.core.paginator import Paginator
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    posts_qs = Post.objects.filter(activity=activity)
    if post_id is not None:
        posts_qs = posts_qs.filter(pk=post_id)
    posts = list(
        posts_qs.annotate(
            n_confirmed=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED)),
            n_waitlisted=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
            n_ended=Count("signups", filter=Q(signups__status__in=ENDED_STATUSES)),
        ).order_by("starts_at", "pk")
    )
    if post_id is not None and not posts:
        raise Http404
    order = [F("group__number").asc(nulls_last=True), F("created_at").asc(), F("pk").asc()]
    view = RosterView(sections=[], groups={})
    if post_id is None:
        signups = list(
            _roster_signups(activity, q)
            .annotate(rank=Window(RowNumber(), partition_by=[F("post_id"), F("status")], order_by=order))
            .filter(rank__lte=ROSTER_OVERVIEW)
            .order_by("post_id", *order)
            .values(*ROSTER_FIELDS)
        )
        groups_qs = SignupGroup.objects.filter(post__activity=activity)
    else:
        view.post = posts[0]
        view.tab = tab if tab in ROSTER_TABS else "confirmed"
        statuses = {"confirmed": [SignupStatus.CONFIRMED], "waitlisted": [SignupStatus.WAITLISTED]}.get(
            view.tab, list(ENDED_STATUSES)
        )
        qs = (
            _roster_signups(activity, q)
            .filter(post_id=post_id, status__in=statuses)
            .order_by(*order)
            .values(*ROSTER_FIELDS)
        )
        view.page = Paginator(qs, ROSTER_PAGE).get_page(page)
        signups = list(view.page.object_list)
        groups_qs = SignupGroup.objects.filter(post_id=post_id)
    view.groups = {
        g.pk: g
        for g in groups_qs.select_related("leader")
        .only("pk", "post_id", "number", "name", "leader_id", "leader__name")
        .annotate(size=Count("members", filter=Q(members__status=SignupStatus.CONFIRMED)))
    }
    by_post = {p.pk: RosterSection(p, [], [], []) for p in posts}
    for s in signups:
        entry = by_post[s["post_id"]]
        if post_id is not None or s["status"] == SignupStatus.CONFIRMED:
            entry.people.append(s)
        elif s["status"] == SignupStatus.WAITLISTED:
            entry.waitlisted.append(s)
        else:
            entry.ended.append(s)
    for entry in by_post.values():
        _mark_group_heads(entry.people, view.groups)
        _mark_group_heads(entry.waitlisted, view.groups)
    view.sections = list(by_post.values())
    return view


def roster_signup(*, actor, activity: Activity, signup_id: int) -> tuple[Signup, list[SignupGroup]]:
    """One person of the roster and the groups of their post: what the "manage" panel needs."""
    if not activity_policy.allows(actor, Perm.VIEW, activity):
        raise Http404
    s = (
        Signup.objects.filter(pk=signup_id, post__activity=activity)
        .select_related("volunteer", "group", "post")
        .first()
    )
    if s is None:
        raise Http404
    return s, list(SignupGroup.objects.filter(post_id=s.post_id).order_by("number"))
