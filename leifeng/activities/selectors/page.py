"""The activity page (every volunteer opens it): two raw statements built once, read through Django's
`Manager.raw()` (the model's columns converted as the ORM converts them, the statement's other columns set on
each instance as they come)."""

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
from leifeng.orgs.models import Org
from leifeng.people.models import Skill, Volunteer


@cache
def _page_activity_sql(vendor: str) -> str:
    """The activity page's first statement, built once: the activity (every field), its node's name and path,
    its campaign's title, its lead unit's name, whether it has a report, and the actor's volunteer profile (id,
    node, node path) if any."""
    from leifeng.orgs.models import Unit

    at, ot, ct, ut = (m._meta.db_table for m in (Activity, Org, Campaign, Unit))
    rt, vt = ActivityReport._meta.db_table, Volunteer._meta.db_table
    return (
        f"SELECT a.*, o.name AS page_org_name, o.path AS page_org_path, c.title AS page_campaign_title, "
        f"u.name AS page_unit_name, EXISTS (SELECT 1 FROM {rt} r WHERE r.activity_id = a.id) AS page_has_report, "
        f"v.id AS page_volunteer_id, v.org_id AS page_volunteer_org_id, vo.path AS page_volunteer_path "
        f"FROM {at} a JOIN {ot} o ON o.id = a.org_id LEFT JOIN {ct} c ON c.id = a.campaign_id "
        f"LEFT JOIN {ut} u ON u.id = a.lead_unit_id "
        f"LEFT JOIN {vt} v ON v.user_id = %s LEFT JOIN {ot} vo ON vo.id = v.org_id "
        f"WHERE a.id = %s"
    )


def _partial(model, **values):
    """An instance as the ORM loads one with only these fields (the others deferred, read on first use):
    `Model.from_db` takes the values in the model's field order."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _page_activity(actor, activity_id: int) -> tuple[Activity | None, Volunteer | None, bool]:
    """The activity (None if there is none) with its org (name, path), campaign (title) and lead unit (name)
    attached — their other fields deferred —, the actor's volunteer profile (id and node only) and whether
    the activity has a report: one statement instead of the ORM's activity, profile and report queries."""
    from leifeng.orgs.models import Unit

    found = list(Activity.objects.raw(_page_activity_sql(connection.vendor), [actor.pk, activity_id]))
    if not found:
        return None, None, False
    a = found[0]
    a.org = _partial(Org, id=a.org_id, name=a.page_org_name, path=a.page_org_path)
    if a.campaign_id is not None:
        a.campaign = _partial(Campaign, id=a.campaign_id, title=a.page_campaign_title)
    if a.lead_unit_id is not None:
        a.lead_unit = _partial(Unit, id=a.lead_unit_id, name=a.page_unit_name)
    volunteer = None
    if a.page_volunteer_id is not None:
        volunteer = _partial(Volunteer, id=a.page_volunteer_id, org_id=a.page_volunteer_org_id, user_id=actor.pk)
        volunteer.org = _partial(Org, id=a.page_volunteer_org_id, path=a.page_volunteer_path)
    return a, volunteer, bool(a.page_has_report)


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
        f"SELECT p.id, p.activity_id, p.title, p.description, p.starts_at, p.ends_at, p.quota, p.filled, "
        f"(SELECT count(*) FROM {st} w WHERE w.post_id = p.id AND w.status = '{SignupStatus.WAITLISTED}') "
        f"AS waitlisted, "
        f"EXISTS (SELECT 1 FROM {pst} ps WHERE ps.{post_skills.m2m_column_name()} = p.id) AS page_skilled, "
        f"m.id AS page_mine_id, m.status AS page_mine_status "
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
    volunteer_id = volunteer.pk if volunteer is not None else None
    posts: list[Post] = list(Post.objects.raw(posts_sql, [volunteer_id, a.pk]))
    skilled = any(p.page_skilled for p in posts)
    if skilled:
        with connection.cursor() as cur:
            cur.execute(skills_sql, [volunteer_id, a.pk])
            skill_rows = cur.fetchall()
    by_pk: dict[int, Post] = {}
    for p in posts:
        p.mine = (
            None
            if p.page_mine_id is None
            else Signup(id=p.page_mine_id, post_id=p.pk, volunteer_id=volunteer_id, status=p.page_mine_status)
        )
        p.skill_names, p.missing_skills = [], []
        by_pk[p.pk] = p
    if skilled:
        for post_id, name, has_it in skill_rows:
            p = by_pk[post_id]
            p.skill_names.append(name)
            if volunteer is not None and not has_it:
                p.missing_skills.append(name)
    return ActivityPage(activity=a, volunteer=volunteer, posts=posts, has_report=has_report)
