"""Reads about campaigns, activities, posts and sign-ups, always scoped to the actor.

Who sees an activity:
  * staff with Perm.VIEW at its node (or above): every status, with the roster;
  * a volunteer, once it is published (or running, or finished): when its node is their station or one
    above it (visibility "subtree"), or when they are an active member of a listed team ("teams");
  * anyone who holds or held a sign-up for it.
Campaigns are seen by staff of their subtree and by volunteers below their node.
Anything else answers 404, exactly like an object that does not exist.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import psycopg
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Func, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    Activity,
    ActivityCategory,
    ActivityReport,
    ActivityStatus,
    Campaign,
    Post,
    Signup,
    SignupGroup,
    SignupStatus,
    Visibility,
)
from leifeng.activities.services import volunteer_visible_q
from leifeng.core import scope
from leifeng.core.rows import convert, field_converters, partial, row_reader
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org
from leifeng.people.models import Skill, Volunteer
from leifeng.teams.selectors import ancestor_paths, volunteer_of

OPEN_STATUSES = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED)


@dataclass
class ActivityFilters:
    """Filters of the activity lists (pages and API alike); bad values are ignored, never an error page."""

    q: str = ""
    category: str = ""
    status: str = ""
    day: date | None = None  # activities with a post on this day
    campaign_id: int | None = None
    near: bool = False  # volunteers: at my station or the sub-center right above it

    @classmethod
    def from_params(cls, params) -> "ActivityFilters":
        category = str(params.get("category") or "").strip()
        status = str(params.get("status") or "").strip()
        raw_day = str(params.get("date") or params.get("day") or "").strip()
        try:
            day = date.fromisoformat(raw_day) if raw_day else None
        except ValueError:
            day = None
        camp = str(params.get("campaign") or "").strip()
        return cls(
            q=str(params.get("q") or "").strip(),
            category=category if category in ActivityCategory.values else "",
            status=status if status in ActivityStatus.values else "",
            day=day,
            campaign_id=int(camp) if camp.isdigit() else None,
            near=str(params.get("near") or "").lower() in ("1", "true", "on", "yes"),
        )


def _apply(qs: QuerySet[Activity], f: ActivityFilters, volunteer: Volunteer | None = None) -> QuerySet[Activity]:
    if f.q:
        qs = qs.filter(title__contains=f.q)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.campaign_id is not None:
        qs = qs.filter(campaign_id=f.campaign_id)
    if f.day is not None:
        start = timezone.make_aware(datetime.combine(f.day, time.min))
        qs = qs.filter(
            Exists(
                Post.objects.filter(activity=OuterRef("pk"), starts_at__lt=start + timedelta(days=1), ends_at__gt=start)
            )
        )
    if f.near and volunteer is not None:
        qs = qs.filter(org__path__in=ancestor_paths(volunteer.org.path)[-2:])
    return qs


def _with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    """Quota, confirmed and first post start per activity, as correlated subqueries (no GROUP BY on the row)."""

    def agg(expr, **filters):
        rows = Post.objects.filter(activity=OuterRef("pk"), **filters).order_by().values("activity")
        return Subquery(rows.annotate(v=expr).values("v"))

    return qs.annotate(
        quota_total=Coalesce(agg(Sum("quota")), Value(0), output_field=IntegerField()),
        filled_total=Coalesce(agg(Sum("filled")), Value(0), output_field=IntegerField()),
        first_start=agg(Min("starts_at")),
    )


def _base() -> QuerySet[Activity]:
    return Activity.objects.select_related("org", "campaign", "lead_unit")


def activity_list(*, actor, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    """Organizers: activities of the actor's subtree, newest first, with quota and sign-up totals."""
    f = filters or ActivityFilters()
    qs = _apply(_base().filter(scope.q(actor, Perm.VIEW)), f)
    return _with_counts(qs).order_by("-id")


def activity_find(*, actor, filters: ActivityFilters | None = None, now: datetime | None = None):
    """Volunteers: published activities they may see with a post still to come, soonest first."""
    f = filters or ActivityFilters()
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Activity.objects.none()
    now = now or timezone.now()
    visible = Activity.objects.filter(volunteer_visible_q(volunteer)).values("pk")
    qs = _base().filter(
        pk__in=visible,
        status__in=(ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS),
    )
    qs = qs.filter(Exists(Post.objects.filter(activity=OuterRef("pk"), starts_at__gt=now)))
    qs = _apply(qs, ActivityFilters(**{**f.__dict__, "status": ""}), volunteer)
    return _with_counts(qs).order_by("first_start", "pk")


def visible_q(actor) -> Q:
    """Every activity the actor may open (see the module docstring)."""
    cond = scope.q(actor, Perm.VIEW)
    volunteer = volunteer_of(actor)
    if volunteer is not None:
        visible = Activity.objects.filter(volunteer_visible_q(volunteer), status__in=OPEN_STATUSES).values("pk")
        mine = Signup.objects.filter(volunteer=volunteer).values("post__activity_id")
        cond |= Q(pk__in=visible) | Q(pk__in=mine)
    return cond


def activity_get(*, actor, activity_id) -> Activity:
    try:
        return _base().filter(visible_q(actor)).get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class ActivityAccess:
    view_roster: bool
    change: bool
    volunteer: Volunteer | None


def activity_access(*, actor, activity: Activity) -> ActivityAccess:
    return ActivityAccess(
        view_roster=scope.allows(actor, Perm.VIEW, activity.org),
        change=scope.allows(actor, Perm.CHANGE, activity.org),
        volunteer=volunteer_of(actor),
    )


def my_skill_ids(*, volunteer: Volunteer) -> set[int]:
    """The skills on a volunteer's profile, to say on the activity page which required ones they lack."""
    return set(Volunteer.skills.through.objects.filter(volunteer_id=volunteer.pk).values_list("skill_id", flat=True))


def signup_for_organizer(*, actor, signup_id) -> Signup:
    """A sign-up at an activity of the actor's subtree (Perm.VIEW at its node), with its post; 404 otherwise,
    exactly like a sign-up that does not exist. The services check Perm.CHANGE themselves."""
    return scope.get_or_404(
        Signup.objects.select_related("post"), actor, Perm.VIEW, field="post__activity__org", pk=signup_id
    )


def group_for_organizer(*, actor, group_id) -> SignupGroup:
    """A group of a post at an activity of the actor's subtree, with its post; 404 otherwise."""
    return scope.get_or_404(
        SignupGroup.objects.select_related("post"), actor, Perm.VIEW, field="post__activity__org", pk=group_id
    )


def _waitlist_count():
    rows = (
        Signup.objects.filter(post=OuterRef("pk"), status=SignupStatus.WAITLISTED)
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def activity_posts(*, activity: Activity) -> list[Post]:
    """Posts with their waitlist length and required skills: two queries."""
    return list(
        Post.objects.filter(activity=activity)
        .annotate(waitlisted=_waitlist_count())
        .prefetch_related("skills")
        .order_by("starts_at", "pk")
    )


def my_signups_by_post(*, actor, activity: Activity) -> dict[int, Signup]:
    """The actor's active sign-ups at this activity, by post id."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return {}
    return {
        s.post_id: s
        for s in Signup.objects.filter(volunteer=volunteer, post__activity=activity, status__in=ACTIVE_SIGNUP)
    }


# ---------------------------------------------------------------- the activity page (every volunteer opens it)


def _visible_to(actor, activity: Activity, volunteer: Volunteer | None) -> bool:
    """`visible_q` for one fetched activity: staff of its subtree and a volunteer of a station below its node
    (visibility "subtree", published or later) are decided in Python; a team's activity or one the volunteer
    signed up for asks the database, with `visible_q` itself."""
    if scope.allows(actor, Perm.VIEW, activity.org):
        return True
    if volunteer is None:
        return False
    if (
        activity.status in OPEN_STATUSES
        and activity.visibility == Visibility.SUBTREE
        and activity.org.path in ancestor_paths(volunteer.org.path)
    ):
        return True
    return Activity.objects.filter(visible_q(actor), pk=activity.pk).exists()


@cache
def _page_activity_sql(vendor: str) -> str:
    """The activity page's first statement, built once: the activity (every field, `row_reader` order), its
    node's name and path, its campaign's title, its lead unit's name, whether it has a report, and the actor's
    volunteer profile (id, node, node path) if any."""
    from leifeng.orgs.models import Unit

    at, ot, ct, ut = (m._meta.db_table for m in (Activity, Org, Campaign, Unit))
    rt, vt = ActivityReport._meta.db_table, Volunteer._meta.db_table
    return (
        f"SELECT {row_reader(Activity, connection.alias).select('a')}, o.name, o.path, c.title, u.name, "
        f"EXISTS (SELECT 1 FROM {rt} r WHERE r.activity_id = a.id), v.id, v.org_id, vo.path "
        f"FROM {at} a JOIN {ot} o ON o.id = a.org_id LEFT JOIN {ct} c ON c.id = a.campaign_id "
        f"LEFT JOIN {ut} u ON u.id = a.lead_unit_id "
        f"LEFT JOIN {vt} v ON v.user_id = %s LEFT JOIN {ot} vo ON vo.id = v.org_id "
        f"WHERE a.id = %s"
    )


def _partial(model, **values):
    return partial(model, connection.alias, **values)


def _page_activity(actor, activity_id: int) -> tuple[Activity | None, Volunteer | None, bool]:
    """The activity (None if there is none) with its org (name, path), campaign (title) and lead unit (name)
    attached — their other fields deferred —, the actor's volunteer profile (id and node only) and whether
    the activity has a report: one statement instead of the ORM's activity, profile and report queries."""
    from leifeng.orgs.models import Unit

    with connection.cursor() as cur:
        cur.execute(_page_activity_sql(connection.vendor), [actor.pk, activity_id])
        row = cur.fetchone()
    if row is None:
        return None, None, False
    reader = row_reader(Activity, connection.alias)
    n = len(reader)
    a = reader.instance(row[:n])
    org_name, org_path, campaign_title, unit_name, has_report, volunteer_id, volunteer_org_id, volunteer_path = row[n:]
    a.org = _partial(Org, id=a.org_id, name=org_name, path=org_path)
    if a.campaign_id is not None:
        a.campaign = _partial(Campaign, id=a.campaign_id, title=campaign_title)
    if a.lead_unit_id is not None:
        a.lead_unit = _partial(Unit, id=a.lead_unit_id, name=unit_name)
    volunteer = None
    if volunteer_id is not None:
        volunteer = _partial(Volunteer, id=volunteer_id, org_id=volunteer_org_id, user_id=actor.pk)
        volunteer.org = _partial(Org, id=volunteer_org_id, path=volunteer_path)
    return a, volunteer, bool(has_report)


@cache
def _page_posts_sql(vendor: str) -> tuple[str, str]:
    """The page's posts (with waitlist length, whether they require skills and the volunteer's active sign-up:
    at most one a post, a unique constraint) and the skills of those that do (with whether the volunteer has
    each), built once from the models' tables."""
    pt, st, kt = Post._meta.db_table, Signup._meta.db_table, Skill._meta.db_table
    post_skills = Post._meta.get_field("skills")
    own_skills = Volunteer._meta.get_field("skills")
    pst, vst = post_skills.m2m_db_table(), own_skills.m2m_db_table()
    active = ", ".join(f"'{s}'" for s in ACTIVE_SIGNUP)
    posts = (
        f"SELECT p.id, p.title, p.description, p.starts_at, p.ends_at, p.quota, p.filled, "
        f"(SELECT count(*) FROM {st} w WHERE w.post_id = p.id AND w.status = '{SignupStatus.WAITLISTED}'), "
        f"EXISTS (SELECT 1 FROM {pst} ps WHERE ps.{post_skills.m2m_column_name()} = p.id), m.id, m.status "
        f"FROM {pt} p LEFT JOIN {st} m ON m.post_id = p.id AND m.volunteer_id = %s AND m.status IN ({active}) "
        f"WHERE p.activity_id = %s ORDER BY p.starts_at, p.id"
    )
    skill_col = post_skills.m2m_reverse_name()
    skills = (
        f"SELECT ps.{post_skills.m2m_column_name()}, k.name, EXISTS (SELECT 1 FROM {vst} vs "
        f"WHERE vs.{own_skills.m2m_column_name()} = %s AND vs.{own_skills.m2m_reverse_name()} = k.id) "
        f"FROM {pst} ps JOIN {kt} k ON k.id = ps.{skill_col} "
        f"WHERE ps.{post_skills.m2m_column_name()} IN (SELECT id FROM {pt} WHERE activity_id = %s) "
        f"ORDER BY ps.{post_skills.m2m_column_name()}, k.name"
    )
    return posts, skills


@dataclass
class ActivityPage:
    activity: Activity  # org (name, path), campaign (title), lead unit (name) attached, their rest deferred
    volunteer: Volunteer | None  # the actor's profile: id and node (path) loaded, the rest deferred
    posts: list[Post]  # annotated: waitlisted, mine (Signup | None), skill_names, missing_skills
    has_report: bool


def activity_page(*, actor, activity_id: int) -> ActivityPage:
    """What the activity page shows, for whoever `activity_get` lets see it (404 otherwise), in two queries
    (three when a post requires skills, one more when `visible_q` must decide): the activity with the actor's
    profile and whether it has a report (`_page_activity`), and its posts as `activity_posts` orders them,
    each with its waitlist length and the actor's active sign-up. Raw statements built once: the ORM's
    building of `visible_q`, the prefetch and the sign-ups was most of the page's query cost."""
    a, volunteer, has_report = _page_activity(actor, activity_id)
    if a is None or not _visible_to(actor, a, volunteer):
        raise Http404
    posts_sql, skills_sql = _page_posts_sql(connection.vendor)
    converters = field_converters(Post._meta.get_field("starts_at"), connection.alias, "p")
    volunteer_id = volunteer.pk if volunteer is not None else None
    with connection.cursor() as cur:
        cur.execute(posts_sql, [volunteer_id, a.pk])
        rows = cur.fetchall()
        skilled = any(row[8] for row in rows)
        if skilled:
            cur.execute(skills_sql, [volunteer_id, a.pk])
            skill_rows = cur.fetchall()
    posts: list[Post] = []
    by_pk: dict[int, Post] = {}
    for pk, title, description, starts_at, ends_at, quota, filled, waitlisted, _skills, mine_pk, mine_status in rows:
        starts_at = convert(starts_at, converters, connection.alias)
        ends_at = convert(ends_at, converters, connection.alias)
        p = Post(
            id=pk,
            activity_id=a.pk,
            title=title,
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            quota=quota,
            filled=filled,
        )
        p.waitlisted = waitlisted
        if mine_pk is None:
            p.mine = None
        else:
            p.mine = Signup(id=mine_pk, post_id=pk, volunteer_id=volunteer_id, status=mine_status)
        p.skill_names, p.missing_skills = [], []
        posts.append(p)
        by_pk[pk] = p
    if skilled:
        for post_id, name, has_it in skill_rows:
            p = by_pk[post_id]
            p.skill_names.append(name)
            if volunteer is not None and not has_it:
                p.missing_skills.append(name)
    return ActivityPage(activity=a, volunteer=volunteer, posts=posts, has_report=has_report)


def my_shifts(*, actor, past: bool = False, now: datetime | None = None) -> QuerySet[Signup]:
    """The volunteer's sign-ups: coming ones (active, soonest first) or past ones (newest first)."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Signup.objects.none()
    now = now or timezone.now()
    qs = Signup.objects.filter(volunteer=volunteer).select_related(
        "post", "post__activity", "post__activity__org", "group"
    )
    if past:
        return qs.filter(Q(ends_at__lte=now) | ~Q(status__in=ACTIVE_SIGNUP)).order_by("-starts_at", "-pk")
    return qs.filter(ends_at__gt=now, status__in=ACTIVE_SIGNUP).order_by("starts_at", "pk")


@dataclass
class RosterPost:
    post: Post
    confirmed: list[Signup]
    waitlisted: list[Signup]
    ended: list[Signup]
    groups: list[SignupGroup]


def activity_roster(*, actor, activity: Activity) -> list[RosterPost]:
    """Every post with its sign-ups and groups, in three queries whatever the size (posts, sign-ups, groups)."""
    if not scope.allows(actor, Perm.VIEW, activity.org):
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
    if not scope.allows(actor, Perm.VIEW, activity.org):
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
    if not scope.allows(actor, Perm.VIEW, activity.org):
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
    if not scope.allows(actor, Perm.VIEW, activity.org):
        raise Http404
    s = (
        Signup.objects.filter(pk=signup_id, post__activity=activity)
        .select_related("volunteer", "group", "post")
        .first()
    )
    if s is None:
        raise Http404
    return s, list(SignupGroup.objects.filter(post_id=s.post_id).order_by("number"))


# ---------------------------------------------------------------- campaigns


def campaign_visible_q(actor) -> Q:
    """Staff see campaigns of their subtree and of the nodes above it (the county's plan reaches every
    station that carries it out); volunteers those of their station and above."""
    cond = scope.q(actor, Perm.VIEW)
    roots = scope.paths(actor, Perm.VIEW)
    if roots:
        cond |= Q(org__path__in=sorted({p for root in roots for p in ancestor_paths(root)}))
    volunteer = volunteer_of(actor)
    if volunteer is not None:
        cond |= Q(org__path__in=ancestor_paths(volunteer.org.path))
    return cond


def campaign_list(*, actor, q: str = "", year: int | None = None) -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(campaign_visible_q(actor)).select_related("org")
    if q:
        qs = qs.filter(title__contains=q)
    if year:
        qs = qs.filter(starts_on__year=year)
    activities = (
        Activity.objects.filter(campaign=OuterRef("pk"))
        .exclude(status=ActivityStatus.DRAFT)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(activity_count=Coalesce(Subquery(activities, output_field=IntegerField()), Value(0))).order_by(
        "-starts_on", "-pk"
    )


def campaign_get(*, actor, campaign_id) -> Campaign:
    try:
        return (
            Campaign.objects.filter(campaign_visible_q(actor))
            .select_related("org", "leading_group", "copied_from")
            .get(pk=campaign_id)
        )
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class Figures:
    activities: int
    people: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def campaign_figures(*, campaign: Campaign) -> Figures:
    """Live figures in one query: activities (not drafts or cancelled), distinct people confirmed, hours
    from the ledger (sum of minutes of every record of the campaign's activities, reversals included)."""
    from leifeng.hours.models import ServiceRecord

    live = Activity.objects.filter(campaign=OuterRef("pk")).exclude(
        status__in=(ActivityStatus.DRAFT, ActivityStatus.CANCELLED)
    )
    people = Signup.objects.filter(post__activity__campaign=OuterRef("pk"), status=SignupStatus.CONFIRMED)
    minutes = ServiceRecord.objects.filter(activity__campaign=OuterRef("pk"))

    def one(qs, field: str, template: str = "%(function)s(%(expressions)s)", function: str = "SUM"):
        """A plain aggregate over the whole subquery (a Func, so Django adds no GROUP BY)."""
        agg = Func(F(field), function=function, template=template, output_field=IntegerField())
        return Coalesce(Subquery(qs.order_by().annotate(v=agg).values("v")[:1]), Value(0), output_field=IntegerField())

    row = (
        Campaign.objects.filter(pk=campaign.pk)
        .annotate(
            f_activities=one(live, "pk", function="COUNT"),
            f_people=one(people, "volunteer_id", "%(function)s(DISTINCT %(expressions)s)", "COUNT"),
            f_minutes=one(minutes, "minutes"),
        )
        .values("f_activities", "f_people", "f_minutes")
        .get()
    )
    return Figures(row["f_activities"], row["f_people"], row["f_minutes"])


def campaign_activities(*, actor, campaign: Campaign) -> QuerySet[Activity]:
    """The campaign's activities the actor may open: drafts only for staff."""
    return _with_counts(_base().filter(campaign=campaign).filter(visible_q(actor))).order_by("first_start", "pk")


def campaign_reports(*, actor, campaign: Campaign) -> list[ActivityReport]:
    acts = Activity.objects.filter(campaign=campaign).filter(visible_q(actor)).values("pk")
    return list(
        ActivityReport.objects.filter(activity__in=acts)
        .select_related("activity")
        .prefetch_related("photos")
        .order_by("-pk")
    )


@dataclass
class Attendance:
    confirmed: int
    people_served: int
    minutes: int
    verified_minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def activity_attendance(*, activity: Activity) -> Attendance:
    """Report figures: confirmed sign-ups, and from the ledger the people with hours and the hours."""
    from leifeng.hours.models import RecordKind, ServiceRecord

    confirmed = Signup.objects.filter(post__activity=activity, status=SignupStatus.CONFIRMED).count()
    agg = ServiceRecord.objects.filter(activity=activity).aggregate(
        total=Coalesce(Sum("minutes"), 0),
        verified=Coalesce(Sum("minutes", filter=Q(kind=RecordKind.VERIFIED)), 0),
    )
    served = (
        ServiceRecord.objects.filter(activity=activity)
        .values("volunteer_id")
        .annotate(m=Sum("minutes"))
        .filter(m__gt=0)
        .count()
    )
    return Attendance(confirmed, served, agg["total"], agg["verified"])


# ---------------------------------------------------------------- scoped reads before a change (pages)


def post_visible(*, actor, post_id) -> Post:
    """A post of an activity the actor may open (the same rule as `activity_get`: staff of its subtree, a
    volunteer who may see it, anyone who signed up for it), with its activity, node, campaign and lead unit;
    404 otherwise, exactly like a post that does not exist, before any service runs."""
    visible = Activity.objects.filter(visible_q(actor)).values("pk")
    try:
        return (
            Post.objects.select_related("activity__org", "activity__campaign", "activity__lead_unit")
            .filter(activity__in=visible)
            .get(pk=post_id)
        )
    except (Post.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def post_for_organizer(*, actor, post_id) -> Post:
    """A post at an activity of the actor's subtree (Perm.VIEW at its node); 404 otherwise, exactly like a post
    that does not exist. The services check Perm.CHANGE themselves."""
    return scope.get_or_404(Post.objects.all(), actor, Perm.VIEW, field="activity__org", pk=post_id)


def my_signup(*, actor, signup_id) -> Signup:
    """One of the actor's own sign-ups, with its post (only the volunteer withdraws it); 404 for anyone else's,
    exactly like a sign-up that does not exist."""
    try:
        return Signup.objects.select_related("post").get(pk=signup_id, volunteer__user_id=actor.pk)
    except (Signup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
