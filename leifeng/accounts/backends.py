from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from leifeng.core.idnumbers import InvalidId, normalize_phone


class PhoneOrUsernameBackend(ModelBackend):
    """The login box takes either a user name or an 11-digit mobile number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            try:
                phone = normalize_phone(username)
            except InvalidId:
                phone = None
            if phone:
                user = User.objects.filter(phone=phone).first()
        if user is None:
            User().set_password(password)  # same time spent as for a real user
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
