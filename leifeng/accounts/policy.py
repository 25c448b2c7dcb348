"""Who may see and manage which accounts and roles (Wagtail's permission policies, built on `core.scope`).

Each rule is written once, here; selectors, services and views ask `account_policy` / `role_policy`:

- an account is seen by whoever holds Perm.MANAGE_ORG where it holds a role (`visible`, `sees`);
- roles are granted and revoked at nodes of the actor's MANAGE_ORG subtree (`role_policy`, `grantable_orgs`);
  `platform_admin` only by platform administrators (`may_grant_role`);
- account-level changes need *every* role of the target inside the actor's subtree, never an operator's
  account nor one's own (`may_manage`): otherwise a station head could act as the county director.
"""

from django.db.models import QuerySet

from leifeng.accounts.models import Role, RoleAssignment, User
from leifeng.core import scope
from leifeng.core.policy import ModelPolicy
from leifeng.core.scope import Perm
from leifeng.orgs.policy import orgs


class RolePolicy(ModelPolicy):
    """Role assignments: seen and revoked by those holding Perm.MANAGE_ORG at their node."""

    model = RoleAssignment
    org_field = "org"

    def visible(self, actor, perm: Perm = Perm.MANAGE_ORG, qs: QuerySet | None = None) -> QuerySet:
        return super().visible(actor, perm, qs)


class AccountPolicy:
    """Accounts hang on nodes through their roles (a user may hold several): not a ModelPolicy of one org field."""

    def anywhere(self, actor) -> bool:
        """Does the actor manage accounts anywhere (the gate of the account pages)?"""
        return scope.has_any(actor, Perm.MANAGE_ORG)

    def is_operator(self, user: User) -> bool:
        """Accounts only the operator may change: superusers, admin-site staff, platform admins."""
        return (
            user.is_superuser
            or user.is_staff
            or RoleAssignment.objects.filter(user=user, role=Role.PLATFORM_ADMIN).exists()
        )

    def sees_all(self, actor) -> bool:
        return scope.is_platform_admin(actor)

    def visible(self, actor, roles: QuerySet | None = None) -> QuerySet[User]:
        """Accounts holding a role (of `roles`, default: every role the actor sees) in the actor's subtree;
        the platform admin sees every account (also those without a role) unless `roles` narrows it."""
        if roles is None and self.sees_all(actor):
            return User.objects.all()
        in_scope = role_policy.visible(actor) if roles is None else roles
        return User.objects.filter(pk__in=in_scope.values("user_id"))

    def sees(self, actor, user: User) -> bool:
        """Is the account in the actor's scope (a role somewhere in their MANAGE_ORG subtree)?"""
        if self.sees_all(actor):
            return True
        return role_policy.visible(actor, qs=RoleAssignment.objects.filter(user=user)).exists()

    def may_manage(self, actor, user: User) -> bool:
        """May `actor` change `user`'s details, password or active flag? (see the module docstring)"""
        if self.sees_all(actor):
            return True
        if actor is None or actor.pk == user.pk or self.is_operator(user):
            return False
        roots = scope.paths(actor, Perm.MANAGE_ORG) or ()
        held = list(RoleAssignment.objects.filter(user=user).values_list("org__path", flat=True))
        return bool(held) and all(any(p.startswith(r) for r in roots) for p in held)

    def may_grant_role(self, actor, role: str) -> bool:
        return role != Role.PLATFORM_ADMIN or self.sees_all(actor)

    def grantable_orgs(self, actor) -> QuerySet:
        """Nodes where the actor may grant roles (and create accounts): their MANAGE_ORG subtree."""
        return orgs(actor, Perm.MANAGE_ORG)

    def may_revoke_tokens_of_others(self, actor) -> bool:
        """The operator revokes someone's API token (a leaked token, a lost phone)."""
        return self.sees_all(actor) or bool(getattr(actor, "is_staff", False))


role_policy = RolePolicy()
account_policy = AccountPolicy()
