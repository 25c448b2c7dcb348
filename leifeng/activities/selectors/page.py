"""The activity page (every volunteer opens it): two raw statements built once."""

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.http import Http404

from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    Activity,
    ActivityReport,
    Campaign,
    Post,
    Signup,
    SignupStatus,
)
from leifeng.activities.policy import activity_policy
from leifeng.core.rows import convert, field_converters, partial, row_reader
from leifeng.orgs.models import Org
from leifeng.people.models import Skill, Volunteer


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
    if a is None or not activity_policy.may_open(actor, a, volunteer):
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
