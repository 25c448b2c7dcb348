"""The signed-in account of a request, read with its session, roles and volunteer flag in one query."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import constant_time_compare

from leifeng.accounts.sessions import SessionStore


def _trusted(principal, user) -> bool:
    """Would `django.contrib.auth.get_user` return this very account for this session? Its checks, in its
    order: an account id and a configured backend in the session, a backend that reads accounts as
    ModelBackend does (by primary key from the default manager) and lets this one in (active), and the
    session's hash matching the account's current password. Anything else (another backend, a hash signed
    with an old SECRET_KEY that Django would rotate) is left to Django."""
    data = principal.data
    backend_path = data.get(BACKEND_SESSION_KEY)
    if data.get(SESSION_KEY) is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    backend = load_backend(backend_path)
    if type(backend).get_user is not ModelBackend.get_user:
        return False
    if str(user.pk) != str(data[SESSION_KEY]) or not backend.user_can_authenticate(user):
        return False
    session_hash = data.get(HASH_SESSION_KEY)
    return bool(session_hash) and constant_time_compare(session_hash, user.get_session_auth_hash())


class PrincipalMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, but a request carrying a session cookie gets its account (or the
    anonymous user) at once from `SessionStore.load_principal`, with the roles the scope module would load
    (`scope._roles`) and the menu's volunteer flag already on it. A plain object instead of a lazy one also
    spares every `request.user.…` the proxy's detour. Whenever the one query's answer is not the whole story
    (see `_trusted`), `request.user` stays Django's lazy `get_user`, which reads the session already loaded."""

    def process_request(self, request):
        super().process_request(request)
        session = request.session
        if not isinstance(session, SessionStore):
            return
        principal = session.load_principal()
        if principal is None:
            return
        user = principal.user
        if user is None:
            if principal.data.get(SESSION_KEY) is not None:
                return  # the session names an account the join did not find: Django decides (it finds none)
            user = AnonymousUser()
        elif not _trusted(principal, user):
            return
        else:
            user._leifeng_roles = principal.roles
            user._leifeng_is_volunteer = principal.is_volunteer
        request.user = request._cached_user = request._acached_user = user
