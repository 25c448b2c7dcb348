"""The sign-up's burst path (see leifeng/core/fast.py for how burst paths sit in front of Django).

POST /api/v1/activities/posts/<id>/signups answered here when the volunteer signs themselves up and every
rule plainly accepts: an approved adult volunteer, a published activity open to their station's subtree,
within its sign-up window, a post that has not started, no skill missing, no overlapping sign-up. It runs
`services.signup_create`'s steps as prepared statements in one transaction, in the same order and with the
same locks:

  1. token + volunteer, the volunteer row locked (one person's sign-ups queue, so the overlap read after it
     sees their other sign-ups);
  2. the post, its activity and node, whether a required skill is missing and the first overlapping sign-up;
  3. a place: `filled < quota` claimed by one conditional UPDATE; when the post looks full, its row is
     locked and counted again (a withdrawal committing meanwhile never leaves a place behind a newcomer),
     else the person goes on the waitlist — exactly `services._take_place`;
  4. the activity's status read again under the post lock (a cancellation meanwhile is seen), the sign-up
     and its audit row inserted in one statement.
The token's `last_used_at` is stamped as `accounts.api_auth.token_user` does. Anything else — a minor, a
team-only activity, a closed window, a missing skill, an overlap, an error — rolls back (nothing was
written) and goes to Django for its answer.
"""

import json
from functools import cache

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.utils import timezone

from leifeng.accounts.api_auth import LAST_USED_EVERY
from leifeng.accounts.models import ApiToken
from leifeng.activities import services
from leifeng.activities.codes import AuditAction
from leifeng.activities.models import ACTIVE_SIGNUP, Activity, Post, Signup, SignupStatus
from leifeng.activities.policy import OPEN_FOR_SIGNUP, activity_policy
from leifeng.core.fast import Answer, Request, route, run
from leifeng.core.models import AuditEvent
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer, VolunteerStatus


class _HandOver(Exception):
    """Roll back and let Django answer."""


@cache
def _sql() -> dict[str, str]:
    ut, tt = get_user_model()._meta.db_table, ApiToken._meta.db_table
    vt, ot = Volunteer._meta.db_table, Org._meta.db_table
    pt, at, st = Post._meta.db_table, Activity._meta.db_table, Signup._meta.db_table
    pst, vst = Post.skills.through._meta.db_table, Volunteer.skills.through._meta.db_table
    active = ", ".join(f"'{s.value}'" for s in ACTIVE_SIGNUP)
    open_for_signup = ", ".join(f"'{s.value}'" for s in OPEN_FOR_SIGNUP)
    return {
        "me": (
            f"SELECT u.id, t.id, t.last_used_at, v.id, v.name, v.status, v.birth_date, v.guardian_consent_at, o.path "
            f"FROM {tt} t JOIN {ut} u ON u.id = t.user_id JOIN {vt} v ON v.user_id = u.id "
            f"JOIN {ot} o ON o.id = v.org_id "
            f"WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active FOR UPDATE OF v"
        ),
        "post": (
            f"SELECT p.title, p.starts_at, p.ends_at, a.id, a.status, a.visibility, a.signup_opens_at, "
            f"a.signup_closes_at, a.org_id, o.path, "
            f"EXISTS (SELECT 1 FROM {pst} ps WHERE ps.post_id = p.id AND ps.skill_id NOT IN "
            f"(SELECT vs.skill_id FROM {vst} vs WHERE vs.volunteer_id = %s)), "
            f"EXISTS (SELECT 1 FROM {st} s WHERE s.volunteer_id = %s AND s.status IN ({active}) "
            f"AND s.starts_at < p.ends_at AND s.ends_at > p.starts_at) "
            f"FROM {pt} p JOIN {at} a ON a.id = p.activity_id JOIN {ot} o ON o.id = a.org_id WHERE p.id = %s"
        ),
        "stamp": f"UPDATE {tt} SET last_used_at = %s WHERE id = %s",
        "take": f"UPDATE {pt} SET filled = filled + 1 WHERE id = %s AND filled < quota",
        "recount": f"SELECT filled < quota FROM {pt} WHERE id = %s FOR UPDATE",
        "take_locked": f"UPDATE {pt} SET filled = filled + 1 WHERE id = %s",
        "insert": (
            f"WITH a AS (SELECT 1 FROM {at} WHERE id = %s AND status IN ({open_for_signup})), "
            f"s AS (INSERT INTO {st} (created_at, updated_at, status, starts_at, ends_at, guardian_consent, note, "
            f"post_id, volunteer_id) SELECT %s, %s, %s, %s, %s, %s, '', %s, %s FROM a RETURNING id), "
            f"e AS (INSERT INTO {AuditEvent._meta.db_table} (created_at, action, object_type, object_id, "
            f"object_repr, changes, note, actor_id, org_id) "
            f"SELECT %s, %s, 'activities.signup', s.id::text, %s, "
            f"jsonb_build_object('status', jsonb_build_array(NULL, %s::text)), '', %s, %s FROM s) "
            f"SELECT id FROM s"
        ),
    }


@route("POST", r"/api/v1/activities/posts/(\d{1,18})/signups")
def sign_up(request: Request) -> Answer | None:
    """The 201 answer, or None to hand the request to Django."""
    post_id = int(request.args[0])
    now = timezone.now()
    sql = _sql()
    try:
        with transaction.atomic():
            answer = _sign_up(request, post_id, now, sql)
    except (_HandOver, DatabaseError):
        return None
    return answer


def _sign_up(request: Request, post_id: int, now, sql: dict[str, str]) -> Answer:
    me = run(sql["me"], [ApiToken.hash(request.bearer)])
    if me is None:
        raise _HandOver  # no token (401) or not a volunteer (the message is Django's)
    user_id, token_id, last_used, volunteer_id, name, status, birth_date, consent_at, my_path = me
    if status != VolunteerStatus.APPROVED:
        raise _HandOver
    if last_used is None or now - last_used > LAST_USED_EVERY:  # as accounts.api_auth.token_user does
        run(sql["stamp"], [now, token_id], rowcount=True)
    row = run(sql["post"], [volunteer_id, volunteer_id, post_id])
    if row is None:
        raise _HandOver
    title, starts_at, ends_at, activity_id, a_status, visibility, opens, closes, org_id, org_path, lacks, clash = row
    age = services.age_on(birth_date, timezone.localtime(starts_at).date())
    if (
        a_status not in OPEN_FOR_SIGNUP
        or not activity_policy.reaches(my_path, org_path, visibility)  # a team's activity: Django decides
        or starts_at <= now
        or (opens and now < opens)
        or (closes and now > closes)
        or (age is not None and age < services.ADULT_AGE)
        or lacks
        or clash
    ):
        raise _HandOver
    confirmed = run(sql["take"], [post_id], rowcount=True) == 1
    if not confirmed and run(sql["recount"], [post_id])[0]:
        run(sql["take_locked"], [post_id], rowcount=True)
        confirmed = True
    state = SignupStatus.CONFIRMED.value if confirmed else SignupStatus.WAITLISTED.value
    inserted = run(
        sql["insert"],
        [
            activity_id,
            *(now, now, state, starts_at, ends_at, consent_at is not None, post_id, volunteer_id),
            *(now, AuditAction.SIGNUP_CREATE.value, f"{name} @ {title}"[:200], state, user_id, org_id),
        ],
    )
    if inserted is None:
        raise _HandOver  # the activity closed while we waited for the post
    payload = {"id": inserted[0], "post_id": post_id, "status": state, "starts_at": starts_at, "ends_at": ends_at}
    return Answer("201 Created", json.dumps(payload, cls=DjangoJSONEncoder).encode())
