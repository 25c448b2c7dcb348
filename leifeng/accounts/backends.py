from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from leifeng.core.idnumbers import InvalidId, normalize_phone


def find_login_user(login: str | None):
    """The account a login box entry names: a user name first, else a mainland mobile number."""
    login = (login or "").strip()
    if not login:
        return None
    User = get_user_model()
    user = User.objects.filter(username=login).first()
    if user is None:
        try:
            phone = normalize_phone(login)
        except InvalidId:
            return None
        user = User.objects.filter(phone=phone).first()
    return user


def login_key(request, credentials: dict | None) -> str:
    """django-axes counts failures per this key (AXES_USERNAME_CALLABLE).

    Typing the user name, the phone number or "+86 139 …" reaches the same account, so all three must
    share one counter, or an attacker would get three times the guesses.
    """
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get("username")
    user = find_login_user(raw)
    if user is not None:
        return user.username
    return (raw or "").strip().lower()


class PhoneOrUsernameBackend(ModelBackend):
    """The login box takes either a user name or an 11-digit mobile number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_login_user(username)
        if user is None:
            get_user_model()().set_password(password)  # same time spent as for a real user
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
