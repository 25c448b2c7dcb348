"""manage.py demo_accounts: the table of demo log-ins that `make run` prints before serving."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.demo.content import ACCOUNTS, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the demo accounts (user name, phone, role, node, password)."

    def handle(self, *args, **options):
        names = [a[0] for a in ACCOUNTS]
        users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        if not users:
            self.stdout.write("没有演示账号。 No demo accounts: run `manage.py seed_demo` on an empty database.")
            return
        roles = {}
        for ra in RoleAssignment.objects.filter(user__in=users.values()).select_related("org", "user"):
            if ra.role == Role.VOLUNTEER and ra.user.username != "volunteer":
                continue  # a staff member's own volunteer profile is not what the account is for
            roles.setdefault(ra.user.username, []).append(ra)
        header = ("用户名 user", "手机 phone", "角色 role", "节点 node", "密码 password")
        rows = []
        checked: dict[str, bool] = {}  # seed_demo gives every account the same hash: verify it once
        for name in names:
            user = users.get(name)
            if user is None:
                continue
            # Say so when someone changed the password: the table must not lie.
            key = user.password
            if key not in checked:
                checked[key] = user.check_password(DEMO_PASSWORD)
            password = DEMO_PASSWORD if checked[key] else "(已修改 changed)"
            for ra in roles.get(name, []) or [None]:
                role = f"{ra.role} {Role(ra.role).label}" if ra else "-"
                rows.append((name, user.phone or "", role, ra.org.name if ra else "-", password))
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write(line)
        for r in [header, *rows]:
            self.stdout.write("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
            if r is header:
                self.stdout.write(line)
        self.stdout.write(line)
        self.stdout.write(
            "演示密码仅用于演示,正式使用前请删除这些账号或修改密码。 Demo passwords only: change or remove them."
        )


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))
