import pytest
from django.http import Http404

from leifeng.accounts import selectors, services
from leifeng.accounts.models import Role
from leifeng.testing import grant, make_platform_admin, make_user


def usernames(qs) -> list[str]:
    return [u.username for u in qs]


def test_owner_sees_accounts_of_own_subtree_only(tree, owner, colleague, outsider, center_admin):
    assert usernames(selectors.user_list(actor=owner)) == ["colleague", "owner"]
    assert usernames(selectors.user_list(actor=outsider)) == ["outsider"]
    assert usernames(selectors.user_list(actor=center_admin)) == ["center", "colleague", "outsider", "owner"]


def test_colleague_without_manage_org_gets_404(tree, colleague):
    with pytest.raises(Http404):
        selectors.user_list(actor=colleague)


def test_roles_outside_scope_are_not_shown(tree, owner, center_admin):
    grant(center_admin, Role.ORG_STAFF, tree.st_a1)
    seen = selectors.user_get(actor=owner, user_id=center_admin.pk)
    assert [(r.role, r.org) for r in seen.scoped_roles] == [(Role.ORG_STAFF, tree.st_a1)]


def test_filters(tree, owner, colleague):
    make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1, phone="13812345678", display_name="李队长")
    f = selectors.UserFilters
    assert usernames(selectors.user_list(actor=owner, filters=f(role=Role.TEAM_LEADER))) == ["leader"]
    assert usernames(selectors.user_list(actor=owner, filters=f(q="1381234"))) == ["leader"]
    assert usernames(selectors.user_list(actor=owner, filters=f(q="队长"))) == ["leader"]
    services.user_set_active(actor=owner, user=colleague, active=False)
    assert usernames(selectors.user_list(actor=owner, filters=f(active="0"))) == ["colleague"]
    assert usernames(selectors.user_list(actor=owner, filters=f(active="1"))) == ["leader", "owner"]


def test_platform_admin_sees_every_account_even_without_roles(tree, owner):
    operator = make_platform_admin(org=tree.center)
    make_user("loner")
    assert "loner" in usernames(selectors.user_list(actor=operator))
    assert "loner" not in usernames(selectors.user_list(actor=owner))


def test_user_get_out_of_scope_is_404_like_missing(tree, owner, outsider):
    with pytest.raises(Http404):
        selectors.user_get(actor=owner, user_id=outsider.pk)
    with pytest.raises(Http404):
        selectors.user_get(actor=owner, user_id=999999)
    with pytest.raises(Http404):
        selectors.user_get(actor=owner, user_id="abc")


def test_token_list_is_own_tokens_active_first(tree, owner, colleague):
    a, _ = services.token_create(actor=colleague, name="a")
    b, _ = services.token_create(actor=colleague, name="b")
    services.token_create(actor=owner, name="other")
    services.token_revoke(actor=colleague, token_id=b.pk)
    assert [t.name for t in selectors.token_list(actor=colleague)] == ["a", "b"]


def test_grantable_roles_hide_platform_admin_from_org_admins(tree, owner):
    assert Role.PLATFORM_ADMIN not in dict(selectors.grantable_roles(actor=owner))
    assert list(selectors.grantable_orgs(actor=owner)) == [tree.st_a1]
