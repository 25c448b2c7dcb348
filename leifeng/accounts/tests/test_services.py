import pytest
from django.core.exceptions import ValidationError

from leifeng.accounts import services
from leifeng.accounts.models import ApiToken, Role, RoleAssignment, User
from leifeng.core import scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.models import AuditEvent
from leifeng.testing import grant, make_platform_admin, make_user

GOOD_PASSWORD = "Str0ng-passw0rd"


def create(actor, org, **kw):
    args = {
        "username": "wang",
        "display_name": "王网格员",
        "password": GOOD_PASSWORD,
        "role": Role.ORG_STAFF,
        "org_id": org.pk,
        "phone": "139 0000 1111",
    }
    args.update(kw)
    return services.user_create(actor=actor, **args)


# ---- user_create ---------------------------------------------------------------------------


def test_org_admin_creates_staff_account_in_own_subtree(tree, owner):
    user = create(owner, tree.st_a1)

    assert user.check_password(GOOD_PASSWORD)
    assert user.phone == "13900001111"  # normalised
    assert list(user.roles.values_list("role", "org")) == [(Role.ORG_STAFF, tree.st_a1.pk)]
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor", "org", "object_id"))
    assert events[0] == ("user.create", owner.pk, tree.st_a1.pk, str(user.pk))
    assert events[1][:3] == ("role.grant", owner.pk, tree.st_a1.pk)
    assert "password" not in str(AuditEvent.objects.values_list("changes", flat=True))


def test_create_outside_own_subtree_is_not_found(tree, owner):
    with pytest.raises(NotFound):
        create(owner, tree.st_b1)
    with pytest.raises(NotFound):
        create(owner, tree.sub_a)  # the parent node is outside a station head's subtree too
    assert not User.objects.filter(username="wang").exists()


def test_colleague_without_manage_org_cannot_create(tree, colleague):
    with pytest.raises(NotFound):
        create(colleague, tree.st_a1)


def test_org_admin_cannot_create_platform_admin(tree, center_admin):
    with pytest.raises(PermissionDenied):
        create(center_admin, tree.center, role=Role.PLATFORM_ADMIN)


def test_create_reports_every_bad_field(tree, owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, tree.st_a1, username="owner", display_name=" ", phone="12345", password="12345678")
    fields = exc.value.message_dict
    assert set(fields) == {"username", "display_name", "phone", "password"}
    assert not AuditEvent.objects.exists()


def test_phone_must_be_unique(tree, owner):
    make_user("li", phone="13900001111")
    with pytest.raises(ValidationError) as exc:
        create(owner, tree.st_a1)
    assert "phone" in exc.value.message_dict


# ---- role_grant / role_revoke --------------------------------------------------------------


def test_grant_at_own_node_is_audited(tree, owner, colleague):
    ra = services.role_grant(actor=owner, user=colleague, role=Role.TEAM_LEADER, org_id=tree.st_a1.pk)
    assert ra.org == tree.st_a1
    event = AuditEvent.objects.get(action="role.grant")
    assert (event.actor_id, event.org_id, event.changes["role"]) == (owner.pk, tree.st_a1.pk, [None, "team_leader"])


def test_grant_above_or_beside_own_subtree_is_not_found(tree, owner, colleague):
    for org in (tree.sub_a, tree.st_a2, tree.st_b1):
        with pytest.raises(NotFound):
            services.role_grant(actor=owner, user=colleague, role=Role.ORG_STAFF, org_id=org.pk)
    assert colleague.roles.count() == 1


def test_outsider_cannot_reach_owner_accounts(tree, owner, outsider, colleague):
    with pytest.raises(NotFound):
        services.role_grant(actor=outsider, user=colleague, role=Role.ORG_STAFF, org_id=tree.st_b1.pk)
    ra = colleague.roles.get()
    with pytest.raises(NotFound):
        services.role_revoke(actor=outsider, user=colleague, assignment_id=ra.pk)


def test_only_platform_admin_grants_platform_admin(tree, center_admin, colleague):
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=center_admin, user=colleague, role=Role.PLATFORM_ADMIN, org_id=tree.center.pk)
    operator = make_platform_admin(org=tree.center)
    services.role_grant(actor=operator, user=colleague, role=Role.PLATFORM_ADMIN, org_id=tree.center.pk)
    assert scope.is_platform_admin(colleague)


def test_duplicate_grant_is_a_conflict(tree, owner, colleague):
    with pytest.raises(Conflict):
        services.role_grant(actor=owner, user=colleague, role=Role.ORG_STAFF, org_id=tree.st_a1.pk)


def test_revoke_is_audited_and_takes_effect(tree, owner, colleague):
    ra = services.role_grant(actor=owner, user=colleague, role=Role.TEAM_LEADER, org_id=tree.st_a1.pk)
    services.role_revoke(actor=owner, user=colleague, assignment_id=ra.pk)
    assert list(colleague.roles.values_list("role", flat=True)) == [Role.ORG_STAFF]
    event = AuditEvent.objects.get(action="role.revoke")
    assert event.object_id == str(ra.pk) and event.org_id == tree.st_a1.pk


def test_last_role_of_active_account_cannot_be_revoked(tree, owner, colleague):
    ra = colleague.roles.get()
    with pytest.raises(ServiceError) as exc:
        services.role_revoke(actor=owner, user=colleague, assignment_id=ra.pk)
    assert exc.value.code == "last_role"
    services.user_set_active(actor=owner, user=colleague, active=False)
    services.role_revoke(actor=owner, user=colleague, assignment_id=ra.pk)  # deactivated: allowed
    assert not colleague.roles.exists()


def test_nobody_removes_own_admin_role_by_accident(tree, owner):
    grant(owner, Role.ORG_STAFF, tree.st_a1)  # not the last role, so only the self-lockout rule applies
    admin_role = owner.roles.get(role=Role.ORG_ADMIN)
    with pytest.raises(ServiceError) as exc:
        services.role_revoke(actor=owner, user=owner, assignment_id=admin_role.pk)
    assert exc.value.code == "own_admin_role"
    assert scope.allows(owner, scope.Perm.MANAGE_ORG, tree.st_a1)


def test_own_admin_role_may_go_when_a_higher_one_still_covers_it(tree, owner, center_admin):
    grant(owner, Role.ORG_ADMIN, tree.sub_a)
    st_role = owner.roles.get(role=Role.ORG_ADMIN, org=tree.st_a1)
    services.role_revoke(actor=owner, user=owner, assignment_id=st_role.pk)
    assert scope.allows(owner, scope.Perm.MANAGE_ORG, tree.st_a1)


def test_admin_above_may_remove_a_station_heads_role(tree, owner, center_admin):
    grant(owner, Role.ORG_STAFF, tree.st_a1)
    admin_role = owner.roles.get(role=Role.ORG_ADMIN)
    services.role_revoke(actor=center_admin, user=owner, assignment_id=admin_role.pk)
    assert not scope.has_any(owner, scope.Perm.MANAGE_ORG)


# ---- account changes -----------------------------------------------------------------------


def test_deactivate_and_reactivate_are_audited(tree, owner, colleague):
    services.user_set_active(actor=owner, user=colleague, active=False)
    colleague.refresh_from_db()
    assert not colleague.is_active
    services.user_set_active(actor=owner, user=colleague, active=True)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "org", "changes"))
    assert actions == [
        ("user.deactivate", tree.st_a1.pk, {"is_active": [True, False]}),
        ("user.activate", tree.st_a1.pk, {"is_active": [False, True]}),
    ]


def test_cannot_deactivate_self(tree, owner):
    with pytest.raises(ServiceError) as exc:
        services.user_set_active(actor=owner, user=owner, active=False)
    assert exc.value.code == "self"


def test_station_head_cannot_touch_an_account_that_also_works_above(tree, owner, center_admin):
    """center_admin also helps out at st_a1, so owner sees the account, but may not take it over."""
    grant(center_admin, Role.ORG_STAFF, tree.st_a1)
    assert services.user_visible(owner, center_admin)
    assert not services.can_manage_account(owner, center_admin)
    for call in (
        lambda: services.user_set_active(actor=owner, user=center_admin, active=False),
        lambda: services.user_reset_password(actor=owner, user=center_admin, password=GOOD_PASSWORD),
        lambda: services.user_update(actor=owner, user=center_admin, display_name="x", phone=None),
    ):
        with pytest.raises(PermissionDenied):
            call()
    center_admin.refresh_from_db()
    assert center_admin.is_active and not center_admin.check_password(GOOD_PASSWORD)


def test_operators_are_managed_by_operators_only(tree, center_admin):
    operator = make_platform_admin(org=tree.st_a1)
    assert not services.can_manage_account(center_admin, operator)
    staff = make_user("ops", role=Role.ORG_STAFF, org=tree.st_a1, is_staff=True)
    assert not services.can_manage_account(center_admin, staff)
    assert services.can_manage_account(operator, staff)


def test_reset_password_sets_it_and_never_logs_it(tree, owner, colleague):
    services.user_reset_password(actor=owner, user=colleague, password=GOOD_PASSWORD)
    colleague.refresh_from_db()
    assert colleague.check_password(GOOD_PASSWORD)
    event = AuditEvent.objects.get(action="user.reset_password")
    assert event.changes == {} and GOOD_PASSWORD not in str(event.__dict__)
    with pytest.raises(ValidationError):
        services.user_reset_password(actor=owner, user=colleague, password="123")


def test_update_records_what_changed(tree, owner, colleague):
    services.user_update(actor=owner, user=colleague, display_name="新名字", phone="13700001234", email="")
    event = AuditEvent.objects.get(action="user.update")
    assert event.changes == {"display_name": ["专管员", "新名字"], "phone": [None, "13700001234"]}


def test_password_change_checks_the_old_one(tree, colleague):
    from leifeng.testing import PASSWORD

    with pytest.raises(ValidationError) as exc:
        services.password_change(actor=colleague, old_password="wrong", new_password=GOOD_PASSWORD)
    assert "old_password" in exc.value.message_dict
    services.password_change(actor=colleague, old_password=PASSWORD, new_password=GOOD_PASSWORD)
    assert colleague.check_password(GOOD_PASSWORD)
    assert AuditEvent.objects.filter(action="user.change_password", actor=colleague, org=tree.st_a1).exists()


# ---- tokens --------------------------------------------------------------------------------


def test_token_is_stored_as_hash_and_audited(tree, colleague):
    token, raw = services.token_create(actor=colleague, name="kiosk")
    assert raw.startswith("lf_") and len(raw) > 40
    assert token.key_hash == ApiToken.hash(raw) and raw not in token.key_hash
    assert token.prefix == raw[:8]
    assert AuditEvent.objects.filter(action="token.create", actor=colleague).exists()
    assert raw not in str(AuditEvent.objects.values_list("changes", "object_repr"))


def test_token_revoke_only_own(tree, colleague, owner):
    token, _raw = services.token_create(actor=colleague, name="kiosk")
    with pytest.raises(NotFound):
        services.token_revoke(actor=owner, token_id=token.pk)
    services.token_revoke(actor=colleague, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(NotFound):  # twice is not found: nothing left to revoke
        services.token_revoke(actor=colleague, token_id=token.pk)


def test_active_tokens_are_limited(tree, colleague, monkeypatch):
    monkeypatch.setattr(services, "MAX_ACTIVE_TOKENS", 2)
    services.token_create(actor=colleague, name="a")
    services.token_create(actor=colleague, name="b")
    with pytest.raises(ServiceError) as exc:
        services.token_create(actor=colleague, name="c")
    assert exc.value.code == "too_many_tokens"


def test_home_org_is_the_highest_node(tree, owner):
    grant(owner, Role.ASSESSOR, tree.sub_a)
    assert services.home_org(owner) == tree.sub_a
    assert RoleAssignment.objects.filter(user=owner).count() == 2
