"""The audit page (core:audit): scoped to Perm.AUDIT, filtered, 50 per page, changes shown readably."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leifeng.accounts import services
from leifeng.accounts.codes import AuditAction as AccountAction
from leifeng.accounts.models import Role
from leifeng.core import audit
from leifeng.core.codes import AuditAction as CoreAction
from leifeng.core.models import AuditEvent
from leifeng.people.codes import AuditAction as PeopleAction
from leifeng.teams.codes import AuditAction as TeamAction
from leifeng.testing import make_platform_admin, make_volunteer_user

URL = reverse("core:audit")


@pytest.fixture
def events(tree, owner, colleague, outsider):
    """One event in each subtree, plus a real service write in owner's station."""
    services.user_update(actor=owner, user=colleague, display_name="网格员小王", phone="13700001111")
    audit.record(
        actor=outsider,
        action=TeamAction.TEAM_CREATE,
        object_type="teams.team",
        object_repr="北村服务队",
        org=tree.st_b1,
    )
    audit.record(actor=None, action=CoreAction.FIELD_KEY_ROTATE, object_type="core.auditevent", note="operator")


def actions(response) -> list[str]:
    return [e.action for e in response.context["page"]]


def test_owner_sees_own_subtree_events_with_readable_changes(events, owner, client_for):
    response = client_for(owner).get(URL)
    assert response.status_code == 200
    assert actions(response) == ["user.update"]
    html = response.content.decode()
    assert "<del>专管员</del> → <ins>网格员小王</ins>" in html
    assert "姓名" in html and "手机号" in html  # field names, not column names
    assert "北村服务队" not in html


def test_colleague_without_audit_permission_gets_404(events, colleague, client_for):
    assert client_for(colleague).get(URL).status_code == 404


def test_outsider_does_not_see_owner_events(events, outsider, client_for):
    response = client_for(outsider).get(URL)
    assert response.status_code == 200
    assert actions(response) == ["team.create"]
    assert "网格员小王" not in response.content.decode()


def test_volunteer_gets_404(tree, client_for):
    volunteer = make_volunteer_user("vol", org=tree.st_a1)
    assert client_for(volunteer).get(URL).status_code == 404


def test_assessor_reads_records_but_not_the_audit_trail(events, assessor, client_for):
    assert client_for(assessor).get(URL).status_code == 404


def test_center_admin_sees_both_subtrees_and_operator_sees_all(events, tree, center_admin, client_for):
    assert sorted(actions(client_for(center_admin).get(URL))) == ["team.create", "user.update"]
    operator = make_platform_admin(org=tree.center)
    assert "encryption.rotate" in actions(client_for(operator).get(URL))


def test_anonymous_goes_to_login(client, tree):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_filters(tree, owner, colleague, center_admin, client_for):
    services.user_update(actor=owner, user=colleague, display_name="A", phone=None)
    services.role_grant(actor=owner, user=colleague, role=Role.TEAM_LEADER, org_id=tree.st_a1.pk)
    services.user_set_active(actor=center_admin, user=colleague, active=False)
    old = audit.record(
        actor=owner, action=AccountAction.USER_UPDATE, obj=colleague, org=tree.st_a1, changes={"email": ["", "x"]}
    )
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = client_for(center_admin)

    role_events = client.get(URL, {"action": "role."})
    assert actions(role_events) == ["role.grant"]
    assert "<ins>队长</ins>" in role_events.content.decode()  # the role's name, not its code
    assert sorted(actions(client.get(URL, {"object_type": "accounts.roleassignment"}))) == ["role.grant"]
    assert actions(client.get(URL, {"actor": "center"})) == ["user.deactivate"]
    today = timezone.localdate().isoformat()
    assert len(actions(client.get(URL, {"date_from": today}))) == 3
    last_month = (timezone.localdate() - timedelta(days=40)).isoformat()
    assert actions(client.get(URL, {"date_from": last_month, "date_to": last_month})) == ["user.update"]
    backwards = client.get(URL, {"date_from": today, "date_to": last_month})
    assert backwards.status_code == 200 and backwards.context["form"].errors
    nonsense = client.get(URL, {"date_from": "yesterday-ish"})
    assert nonsense.status_code == 200 and len(actions(nonsense)) == 4  # bad date reported, not applied


@pytest.mark.parametrize("n", [3, 80])
def test_query_count_does_not_grow_with_events(tree, owner, colleague, client_for, django_assert_num_queries, n):
    for i in range(n):
        audit.record(
            actor=colleague,
            action=PeopleAction.VOLUNTEER_UPDATE,
            obj=colleague,
            org=tree.st_a1,
            changes={"x": [i, i + 1]},
        )
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 count,
    # 3 page of events with actor and node
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert len(response.context["page"].object_list) == min(n, 50)
    if n > 50:
        assert client.get(URL, {"page": 2}).context["page"].object_list.__len__() == n - 50


def test_htmx_request_returns_the_results_only(events, owner, client_for):
    response = client_for(owner).get(URL, {"action": "user."}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html
