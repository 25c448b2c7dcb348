"""Writes about accounts, roles and API tokens: keyword-only, atomic, validated, audited.

Who may do what (DESIGN §1, §8):

- Roles are granted and revoked by holders of `Perm.MANAGE_ORG`, only at nodes inside their own
  subtree; `platform_admin` is granted and revoked by platform administrators only.
- Account-level changes (details, password reset, deactivation) need *every* role of the target to
  lie inside the actor's subtree, and never touch operators (platform admins, staff, superusers):
  otherwise a station head could reset the county director's password and act as them.
- Nobody removes their own administrator role when it is the one that lets them manage that node,
  nor deactivates themselves: an administrator above them (or the operator) does that. A click
  cannot lock you out of your own subtree.
- An active account keeps at least one role: removing the last one would leave an account that
  no administrator can see any more. Deactivate it instead.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.codes import AuditAction, ErrorCode
from leifeng.accounts.models import ApiToken, Role, RoleAssignment, User
from leifeng.accounts.policy import account_policy, role_policy
from leifeng.core import audit, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.idnumbers import InvalidId, normalize_phone
from leifeng.core.scope import ROLE_PERMS, Perm
from leifeng.orgs.models import Org

MAX_ACTIVE_TOKENS = 20
USER_FIELDS = ["username", "display_name", "phone", "email", "is_active"]


# ---- helpers -------------------------------------------------------------------------------


def home_org(user: User) -> Org | None:
    """The highest node where the account holds a role: audit events about the account go there."""
    ra = RoleAssignment.objects.filter(user=user).select_related("org").order_by("org__depth", "org__path").first()
    return ra.org if ra else None


# The rules live in accounts.policy; these names stay for the callers that use them.
user_visible = account_policy.sees
can_manage_account = account_policy.may_manage


def _require_manage_account(actor, user: User) -> None:
    if not can_manage_account(actor, user):
        raise PermissionDenied(
            _("This account also works outside your organizations; ask an administrator above you."),
            code=ErrorCode.ACCOUNT_OUTSIDE_SCOPE,
        )


def _clean_phone(raw: str | None) -> str | None:
    if not (raw or "").strip():
        return None
    try:
        return normalize_phone(raw)
    except InvalidId as exc:
        raise ValidationError({"phone": str(exc)}) from None


def _check_role_choice(actor, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if not account_policy.may_grant_role(actor, role):
        raise PermissionDenied(
            _("Only platform administrators can grant or remove this role."), code=ErrorCode.PLATFORM_ROLE
        )


def _org_in_scope(actor, org_id: int | None) -> Org:
    """The node if the actor manages it; the same 404 as a missing node otherwise."""
    org = account_policy.grantable_orgs(actor).filter(pk=org_id).first() if org_id else None
    if org is None:
        raise NotFound(_("Organization not found."))
    return org


# ---- accounts ------------------------------------------------------------------------------


def user_create(
    *,
    actor,
    username: str,
    display_name: str,
    password: str,
    role: str,
    org_id: int,
    phone: str | None = None,
    email: str = "",
) -> User:
    """A staff account with its first role: the role puts it inside the creator's subtree."""
    if not account_policy.anywhere(actor):
        raise NotFound()
    _check_role_choice(actor, role)
    org = _org_in_scope(actor, org_id)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    if not username:
        errors["username"] = [_("User name is required.")]
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = [_("This user name is taken.")]
    if not display_name:
        errors["display_name"] = [_("Name is required.")]
    try:
        phone = _clean_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if phone and User.objects.filter(phone=phone).exists():
        errors["phone"] = [_("Another account already uses this mobile number.")]
    try:
        validate_password(password or "", User(username=username, display_name=display_name, phone=phone))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            user = get_user_model().objects.create_user(
                username=username, password=password, display_name=display_name, phone=phone, email=email or ""
            )
        except IntegrityError:
            raise Conflict(
                _("This user name or mobile number is taken."), code=ErrorCode.DUPLICATE, field="username"
            ) from None
        ra = RoleAssignment.objects.create(user=user, role=role, org=org)
        audit.record(
            actor=actor,
            action=AuditAction.USER_CREATE,
            obj=user,
            org=org,
            changes={"username": [None, username], "display_name": [None, display_name], "phone": [None, phone]},
        )
        audit.record(actor=actor, action=AuditAction.ROLE_GRANT, obj=ra, changes={"role": [None, role]})
    return user


def user_update(*, actor, user: User, display_name: str, phone: str | None, email: str = "") -> User:
    _require_manage_account(actor, user)
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationError({"display_name": _("Name is required.")})
    phone = _clean_phone(phone)
    if phone and User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
        raise ValidationError({"phone": _("Another account already uses this mobile number.")})
    with transaction.atomic():
        before = audit.snapshot(user, USER_FIELDS)
        user.display_name, user.phone, user.email = display_name, phone, email or ""
        user.save(update_fields=["display_name", "phone", "email"])
        if changes := audit.diff(before, user):
            audit.record(actor=actor, action=AuditAction.USER_UPDATE, obj=user, org=home_org(user), changes=changes)
    return user


def user_set_active(*, actor, user: User, active: bool) -> User:
    """Deactivated accounts cannot log in, and their sessions and API tokens stop working at once."""
    if actor is not None and actor.pk == user.pk:
        raise ServiceError(_("You cannot deactivate your own account."), code=ErrorCode.SELF)
    _require_manage_account(actor, user)
    if user.is_active == active:
        return user
    with transaction.atomic():
        before = audit.snapshot(user, ["is_active"])
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action=AuditAction.USER_ACTIVATE if active else AuditAction.USER_DEACTIVATE,
            obj=user,
            org=home_org(user),
            changes=audit.diff(before, user),
        )
    return user


def user_reset_password(*, actor, user: User, password: str) -> User:
    """An administrator sets a new password (the old one is forgotten); the password is never logged."""
    _require_manage_account(actor, user)
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor=actor, action=AuditAction.USER_RESET_PASSWORD, obj=user, org=home_org(user))
    return user


def password_change(*, actor, old_password: str, new_password: str) -> User:
    """The account holder changes their own password (the view keeps the session alive)."""
    user = actor
    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": _("Your old password was entered incorrectly.")})
    try:
        validate_password(new_password or "", user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record(actor=actor, action=AuditAction.USER_CHANGE_PASSWORD, obj=user, org=home_org(user))
    return user


# ---- roles ---------------------------------------------------------------------------------


def role_grant(*, actor, user: User, role: str, org_id: int) -> RoleAssignment:
    """`role` at node `org_id` for `user`; the node must lie in the actor's MANAGE_ORG subtree."""
    if not user_visible(actor, user):
        raise NotFound()
    _check_role_choice(actor, role)
    org = _org_in_scope(actor, org_id)
    with transaction.atomic():
        if RoleAssignment.objects.filter(user=user, role=role, org=org).exists():
            raise Conflict(_("The account already holds this role here."), code=ErrorCode.DUPLICATE_ROLE, field="role")
        ra = RoleAssignment.objects.create(user=user, role=role, org=org)
        audit.record(
            actor=actor,
            action=AuditAction.ROLE_GRANT,
            obj=ra,
            changes={"user": [None, user.username], "role": [None, role]},
        )
    scope.forget(user)
    return ra


def _manages_without(user: User, without: RoleAssignment) -> bool:
    """Would `user` still hold MANAGE_ORG at `without.org` once `without` is gone?"""
    others = RoleAssignment.objects.filter(user=user).exclude(pk=without.pk).values_list("role", "org__path")
    return any(Perm.MANAGE_ORG in ROLE_PERMS.get(r, ()) and without.org.path.startswith(p) for r, p in others)


def role_revoke(*, actor, user: User, assignment_id: int) -> None:
    with transaction.atomic():
        ra = (
            role_policy.visible(actor, qs=RoleAssignment.objects.select_related("org"))
            .select_for_update()
            .filter(pk=assignment_id, user=user)
            .first()
        )
        if ra is None:
            raise NotFound()
        _check_role_choice(actor, ra.role)
        if (
            actor.pk == user.pk
            and Perm.MANAGE_ORG in ROLE_PERMS.get(ra.role, ())
            and not _manages_without(user, ra)
            and not user.is_superuser
        ):
            raise ServiceError(
                _("You cannot remove your own administrator role; ask an administrator above you."),
                code=ErrorCode.OWN_ADMIN_ROLE,
            )
        if user.is_active and not RoleAssignment.objects.filter(user=user).exclude(pk=ra.pk).exists():
            raise ServiceError(
                _("This is the account's last role. Deactivate the account instead."), code=ErrorCode.LAST_ROLE
            )
        audit.record(
            actor=actor,
            action=AuditAction.ROLE_REVOKE,
            obj=ra,
            changes={"user": [user.username, None], "role": [ra.role, None]},
        )
        ra.delete()
    scope.forget(user)


# ---- API tokens ----------------------------------------------------------------------------


def token_create(*, actor, name: str) -> tuple[ApiToken, str]:
    """A new bearer token. Returns the row and the raw token, which is never shown again."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the app that will use it.")})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()  # one creation at a time per user
        if ApiToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
            raise ServiceError(
                _("You have %(n)d active tokens; revoke one first.") % {"n": MAX_ACTIVE_TOKENS},
                code=ErrorCode.TOO_MANY_TOKENS,
            )
        raw = ApiToken.new_key()
        token = ApiToken.objects.create(user=actor, name=name, prefix=raw[:8], key_hash=ApiToken.hash(raw))
        audit.record(
            actor=actor, action=AuditAction.TOKEN_CREATE, obj=token, org=home_org(actor), changes={"name": [None, name]}
        )
    return token, raw


def token_revoke(*, actor, token_id: int) -> ApiToken:
    """Only the holder revokes their token here (the operator can also do it in the admin)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor, revoked_at__isnull=True).first()
        if token is None:
            raise NotFound()
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action=AuditAction.TOKEN_REVOKE, obj=token, org=home_org(actor))
    return token


def token_revoke_by_operator(*, actor, token: ApiToken) -> ApiToken:
    """The operator revokes someone's token from the admin (a leaked token, a lost phone)."""
    if not account_policy.may_revoke_tokens_of_others(actor):
        raise PermissionDenied()
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(actor=actor, action=AuditAction.TOKEN_REVOKE, obj=token, org=home_org(token.user))
    return token
