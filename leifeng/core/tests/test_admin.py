"""Django admin for the operator: accounts with roles, tokens by hash only, a read-only audit trail."""

import pytest
from django.urls import reverse

from leifeng.accounts import services
from leifeng.accounts.codes import AuditAction as AccountAction
from leifeng.accounts.models import ApiToken, Role
from leifeng.core import audit
from leifeng.core.codes import AuditAction
from leifeng.core.models import AuditEvent
from leifeng.testing import make_user


@pytest.fixture
def operator(tree):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def test_admin_is_for_the_operator_only(client_for, owner, tree):
    response = client_for(owner).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_user_admin_shows_roles_inline(admin_client, owner, tree):
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:accounts_user_change", args=[owner.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "roles-TOTAL_FORMS" in html and 'value="org_admin" selected' in html


def test_admin_user_changes_are_audited(admin_client, operator, colleague, tree):
    url = reverse("admin:accounts_user_change", args=[colleague.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("last_login", "date_joined")}
    data.update(
        {
            "username": colleague.username,
            "display_name": "新名字",
            "phone": "",
            "email": "",
            "is_active": "on",
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "1",
            "roles-MIN_NUM_FORMS": "0",
            "roles-MAX_NUM_FORMS": "1000",
            "roles-0-id": str(colleague.roles.get().pk),
            "roles-0-user": str(colleague.pk),
            "roles-0-role": Role.ORG_STAFF,
            "roles-0-org": str(tree.st_a1.pk),
        }
    )
    data.pop("password", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE, object_type="accounts.user")
    assert event.actor == operator and event.changes["display_name"] == ["专管员", "新名字"]


def test_audit_events_are_read_only_even_for_the_operator(admin_client, owner, tree):
    event = audit.record(actor=owner, action=AccountAction.USER_UPDATE, obj=owner, org=tree.st_a1)
    assert admin_client.get(reverse("admin:core_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:core_auditevent_add")).status_code == 403
    change_url = reverse("admin:core_auditevent_change", args=[event.pk])
    assert admin_client.get(change_url).status_code == 200  # view only
    assert admin_client.post(change_url, {"action": "forged"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    event.refresh_from_db()
    assert event.action == "user.update"


def test_api_tokens_show_only_the_hash_and_can_be_revoked(admin_client, operator, colleague, tree):
    token, raw = services.token_create(actor=colleague, name="kiosk")
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    html = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_hash in html and raw not in html
    assert 'name="key_hash"' not in html  # shown, not editable
    response = admin_client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke", actor=operator).exists()


def test_role_assignment_admin(admin_client, owner):
    assert admin_client.get(reverse("admin:accounts_roleassignment_changelist")).status_code == 200
    ra = owner.roles.get()
    assert admin_client.get(reverse("admin:accounts_roleassignment_change", args=[ra.pk])).status_code == 200
    assert ApiToken.objects.count() == 0


def test_admin_deletes_are_audited_with_the_model_and_the_actor(admin_client, operator, colleague):
    ra = colleague.roles.get()
    url = reverse("admin:accounts_roleassignment_delete", args=[ra.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_DELETE)
    assert event.actor == operator
    assert (event.object_type, event.object_id) == ("accounts.roleassignment", str(ra.pk))
    assert not colleague.roles.exists()
