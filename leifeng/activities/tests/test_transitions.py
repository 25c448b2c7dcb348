"""The activity and sign-up status tables are `core.transitions.Transitions`: a move they do not list is refused
through the services with the same code and message as before, and nothing changes."""

import pytest
from django.utils import translation

from leifeng.activities import services
from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    ACTIVITY_TRANSITIONS,
    SIGNUP_TRANSITIONS,
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
)
from leifeng.activities.tests.conftest import make_activity, sign
from leifeng.core.errors import Conflict
from leifeng.core.models import AuditEvent
from leifeng.core.transitions import Transitions

pytestmark = pytest.mark.django_db


def test_the_tables_are_the_one_transition_helper():
    assert isinstance(ACTIVITY_TRANSITIONS, Transitions) and isinstance(SIGNUP_TRANSITIONS, Transitions)
    assert ACTIVITY_TRANSITIONS[ActivityStatus.FINISHED] == frozenset()
    assert ACTIVITY_TRANSITIONS.sources(ActivityStatus.CANCELLED) == {
        ActivityStatus.DRAFT,
        ActivityStatus.PUBLISHED,
        ActivityStatus.IN_PROGRESS,
    }
    # the cancellation withdraws, in one conditional UPDATE, exactly the sign-ups the table lets become withdrawn
    assert SIGNUP_TRANSITIONS.sources(SignupStatus.WITHDRAWN) == frozenset(ACTIVE_SIGNUP)


def test_starting_a_draft_is_refused_through_the_service_and_changes_nothing(tree, owner):
    a = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict) as exc:
        services.activity_start(actor=owner, activity_id=a.pk)
    assert exc.value.code == "invalid_transition" and exc.value.status == 409
    assert exc.value.message == "“草稿”的活动不能变为“进行中”。"  # the published message, in the default language
    a.refresh_from_db()
    assert a.status == ActivityStatus.DRAFT and AuditEvent.objects.count() == before


def test_the_refusal_speaks_the_active_language(tree, owner):
    a = make_activity(tree.st_a1, status=ActivityStatus.FINISHED)
    with translation.override("en"), pytest.raises(Conflict) as exc:
        services.activity_cancel(actor=owner, activity_id=a.pk, reason="下雨")
    assert exc.value.message == "An activity that is “Finished” cannot become “Cancelled”."
    a.refresh_from_db()
    assert a.status == ActivityStatus.FINISHED and a.cancel_reason == ""


def test_the_clock_goes_through_the_same_table(tree, owner):
    """activities_advance moves only what the table allows: a cancelled activity whose post started stays put."""
    a = make_activity(tree.st_a1, status=ActivityStatus.CANCELLED)
    done = services.activities_advance(now=a.posts.get().ends_at)
    a.refresh_from_db()
    assert done == {"started": 0, "finished": 0} and a.status == ActivityStatus.CANCELLED


def test_every_signup_move_outside_the_table_is_refused():
    for source in SignupStatus.values:
        for target in SignupStatus.values:
            s = Signup(status=source)
            if target in SIGNUP_TRANSITIONS[source]:
                assert SIGNUP_TRANSITIONS.move(s, target) == source and s.status == target
            else:
                with pytest.raises(Conflict) as exc:
                    SIGNUP_TRANSITIONS.move(s, target)
                assert exc.value.code == "invalid_transition" and s.status == source


def test_a_signup_refusal_keeps_its_published_message():
    with pytest.raises(Conflict) as exc:
        SIGNUP_TRANSITIONS.move(Signup(status=SignupStatus.WITHDRAWN), SignupStatus.CONFIRMED)
    assert exc.value.message == "“已退出”的报名不能变为“已报名”。"


def test_a_withdrawn_signup_is_not_withdrawn_again(tree, make_volunteer):
    """The service's own check answers first (not_active), the table behind it would refuse too."""
    v = make_volunteer()
    s = sign(v, make_activity(tree.st_a1).posts.get())
    services.signup_withdraw(actor=v.user, signup_id=s.pk)
    with pytest.raises(Conflict) as exc:
        services.signup_withdraw(actor=v.user, signup_id=s.pk)
    assert exc.value.code == "not_active"
    assert not SIGNUP_TRANSITIONS.allowed(SignupStatus.WITHDRAWN, SignupStatus.WITHDRAWN)
    assert Activity.objects.get(pk=s.post.activity_id).posts.get().filled == 0
