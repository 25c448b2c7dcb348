"""Database sessions that name their account, and the one query that reads a signed-in request's principal.

Django reads, for a signed-in page: the session row, then the account, then (our scope module) the account's
roles, then (the menu) whether it has a volunteer profile — four queries, about 2 ms of the ~15 ms a roster page
cost (issue #4). The session row here carries the account's id (`Session.user`, kept by `create_model_instance`
on every save), so all four come back from one statement: `SessionStore.load_principal`. What that statement
returns is exactly what the four queries returned; `accounts.middleware.PrincipalMiddleware` then applies
Django's own checks (backend, active account, session hash) before trusting it.

The statement runs through Django's `Manager.raw()`: the account comes back as the ORM loads it (its columns
through the same converters: SQLite's 0/1 booleans and text datetimes), the session's data, the volunteer flag
and each role row as extra columns (`raw()` sets them on the instance), one instance a role.
"""

import logging
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import connections, router
from django.utils import timezone

log = logging.getLogger("django.security.SuspiciousSession")


def _user_id(value) -> int | None:
    """The account id Django keeps in the session (a string of the primary key), as the column's value."""
    try:
        return get_user_model()._meta.pk.to_python(value)
    except ValidationError:  # not an id: the session names no account we could join
        return None


@dataclass(slots=True)
class Principal:
    """The session's data and, when the session names an existing account, that account with its roles."""

    data: dict
    user: object | None
    roles: list[tuple[str, str]]
    is_volunteer: bool


_EXTRA_COLUMNS = ("principal_session_data", "principal_is_volunteer", "principal_role", "principal_path")


@cache
def _principal_sql(alias: str, vendor: str) -> str:
    """The statement: every column of the account (`u.*`, which `raw()` reads into the User instance), the
    session's data, its volunteer flag, and one row per role (role, node path) — a single row with NULLs when
    it has none (and NULL account columns when the session names no account)."""
    from leifeng.accounts.models import RoleAssignment, Session

    User = get_user_model()
    qn = connections[alias].ops.quote_name
    pk = qn(User._meta.pk.column)
    # The volunteer profile (people) and the node (orgs) are reached through the relations that name them, so
    # accounts imports neither app: people.Volunteer.user is the account's `volunteer`, RoleAssignment.org its node.
    Volunteer = User._meta.get_field("volunteer").related_model
    Org = RoleAssignment._meta.get_field("org").related_model
    vt, rt, ot = Volunteer._meta.db_table, RoleAssignment._meta.db_table, Org._meta.db_table
    return (
        f"SELECT u.*, s.session_data AS principal_session_data, "
        f"EXISTS (SELECT 1 FROM {qn(vt)} v WHERE v.user_id = u.{pk}) AS principal_is_volunteer, "
        f"r.role AS principal_role, o.path AS principal_path "
        f"FROM {qn(Session._meta.db_table)} s "
        f"LEFT JOIN {qn(User._meta.db_table)} u ON u.{pk} = s.user_id "
        f"LEFT JOIN {qn(rt)} r ON r.user_id = u.{pk} "
        f"LEFT JOIN {qn(ot)} o ON o.id = r.org_id "
        f"WHERE s.session_key = %s AND s.expire_date > %s"
    )


class SessionStore(DBStore):
    """Django's database sessions, on `accounts.Session`: the same data, plus the account's id on the row."""

    @classmethod
    def get_model_class(cls):
        from leifeng.accounts.models import Session

        return Session

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        obj.user_id = _user_id(data.get(SESSION_KEY))
        return obj

    def load_principal(self) -> Principal | None:
        """Load this session (as `load()` would: an unknown or expired key is forgotten, the data is {}) and,
        in the same query, its account, roles and volunteer flag. None when the session was already loaded
        (then Django's own path reads the account) or there is no key."""
        if self.session_key is None or hasattr(self, "_session_cache"):
            return None
        self.accessed = True  # as `_get_session` marks it: the answer depends on the cookie (Vary: Cookie)
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        sql = _principal_sql(alias, connection.vendor)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = list(get_user_model()._default_manager.db_manager(alias).raw(sql, [self.session_key, now]))
        if not rows:
            self._session_key = None
            self._session_cache = {}
            return Principal({}, None, [], False)
        first = rows[0]
        try:
            data = self.decode(first.principal_session_data)
        except SuspiciousOperation as e:  # what `_get_session_from_db` does with it
            log.warning(str(e))
            self._session_key = None
            data = {}
        self._session_cache = data
        if first.pk is None:  # no account on the row (anonymous session, or the account is gone)
            return Principal(data, None, [], False)
        roles = [(row.principal_role, row.principal_path) for row in rows if row.principal_role is not None]
        is_volunteer = bool(first.principal_is_volunteer)
        for extra in _EXTRA_COLUMNS:
            delattr(first, extra)  # the account as the ORM loads it, without the statement's other columns
        return Principal(data, first, roles, is_volunteer)
