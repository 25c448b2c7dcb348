"""One query for the session, its account, the account's roles and its volunteer flag (accounts.middleware), with
every answer Django's own session auth would give: logout, password change, deactivation, expiry, revoked roles."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leifeng.accounts import services
from leifeng.accounts.models import Role, RoleAssignment, Session, User
from leifeng.accounts.sessions import SessionStore
from leifeng.testing import PASSWORD, VolunteerFactory, make_user

BADGE = "notifications:unread_badge"  # a small page that only needs the account


def test_a_signed_in_request_reads_session_account_roles_and_flag_in_one_query(owner, client_for):
    client = client_for(owner)
    with CaptureQueriesContext(connection) as seen:
        response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 200
    first = seen.captured_queries[0]["sql"]
    assert "accounts_session" in first and "accounts_roleassignment" in first and "people_volunteer" in first
    rest = " ".join(q["sql"] for q in seen.captured_queries[1:])
    assert "accounts_session" not in rest and "people_volunteer" not in rest  # nothing asked twice
    user = response.wsgi_request.user
    assert user == owner and user._leifeng_roles == [(Role.ORG_ADMIN, owner.roles.get().org.path)]
    assert user._leifeng_is_volunteer is False


def test_a_signed_in_page_varies_by_cookie(owner, client_for):
    """A shared cache must never hand one person's page to another: the session was read, so Vary: Cookie."""
    response = client_for(owner).get(reverse(BADGE))
    assert "Cookie" in response.get("Vary", "")


def test_the_account_is_the_one_django_loads_field_by_field(owner, client_for):
    """Booleans and datetimes come back converted as the ORM would (SQLite stores them as text and 0/1)."""
    owner.last_login = timezone.now() - timedelta(days=2)
    owner.save(update_fields=["last_login"])
    client = client_for(owner)  # force_login updates last_login again
    user = client.get(reverse(BADGE)).wsgi_request.user
    fresh = User.objects.get(pk=owner.pk)
    for field in User._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(fresh, field.attname), field.name
    assert user.last_login.tzinfo is not None and user.is_active is True and user._state.adding is False


def test_volunteer_flag_and_the_menu(tree, client_for):
    vol = VolunteerFactory(org=tree.st_a1, user=make_user("vol1"))
    response = client_for(vol.user).get(reverse("home:home"))
    assert response.wsgi_request.user._leifeng_is_volunteer is True
    assert reverse("activities:my_shifts") in response.content.decode()  # the volunteer's menu


def test_the_session_row_names_its_account_and_an_anonymous_one_none(owner, client):
    client.force_login(owner)
    row = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert row.user_id == owner.pk
    store = SessionStore()
    store["anything"] = 1
    store.save()
    assert Session.objects.get(session_key=store.session_key).user_id is None


def test_logout_ends_the_session_for_every_later_request(owner, client_for):
    client = client_for(owner)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("accounts:logout"))
    client.cookies[settings.SESSION_COOKIE_NAME] = key  # a copy of the old cookie
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_password_reset_by_an_administrator_logs_the_account_out(tree, owner, colleague, client_for):
    client = client_for(colleague)
    assert client.get(reverse(BADGE)).wsgi_request.user == colleague
    services.user_reset_password(actor=owner, user=colleague, password="An0ther-str0ng-pass")
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302 and not response.wsgi_request.user.is_authenticated
    assert not Session.objects.filter(user_id=colleague.pk).exists()  # Django flushed it


def test_a_deactivated_account_is_out_at_once(owner, colleague, client_for):
    client = client_for(colleague)
    services.user_set_active(actor=owner, user=colleague, active=False)
    assert not client.get(reverse(BADGE)).wsgi_request.user.is_authenticated


def test_a_revoked_role_counts_on_the_next_request(tree, owner, colleague, client_for):
    services.role_grant(actor=owner, user=colleague, role=Role.TEAM_LEADER, org_id=tree.st_a1.pk)
    client = client_for(colleague)
    assert client.get(reverse("people:volunteer_list")).status_code == 200
    assignment = RoleAssignment.objects.get(user=colleague, role=Role.ORG_STAFF)
    services.role_revoke(actor=owner, user=colleague, assignment_id=assignment.pk)
    assert client.get(reverse("people:volunteer_list")).status_code == 404


def test_an_expired_session_is_anonymous(owner, client_for):
    client = client_for(owner)
    Session.objects.filter(user_id=owner.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse(BADGE))
    assert not response.wsgi_request.user.is_authenticated


def test_a_deleted_account_is_anonymous(tree, client):
    gone = make_user("gone", role=Role.ORG_STAFF, org=tree.st_a1)
    client.force_login(gone)
    Session.objects.filter(user_id=gone.pk).update(user_id=None)  # as if the join found nobody …
    User.objects.filter(pk=gone.pk).delete()  # … and the account is really gone
    assert not client.get(reverse(BADGE)).wsgi_request.user.is_authenticated


def test_a_backend_no_longer_configured_is_anonymous(owner, client):
    client.force_login(owner)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
    session.save()
    assert not client.get(reverse(BADGE)).wsgi_request.user.is_authenticated


def test_login_through_the_form_then_pages(tree, client):
    make_user("zhao", role=Role.ORG_STAFF, org=tree.st_a1, phone="13912345670")
    response = client.post(reverse("accounts:login"), {"username": "13912345670", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("people:volunteer_list"))
    assert page.status_code == 200 and page.wsgi_request.user.username == "zhao"


@pytest.mark.parametrize("cookie", ["", "not-a-session-key-at-all", "x" * 40])
def test_no_or_unknown_cookie_is_anonymous_without_error(client, tree, cookie):
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = client.get(reverse("orders:menu"))  # a public page
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
