"""Reads about volunteers, always scoped to the actor (leifeng.core.scope)."""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet

from leifeng.core import scope
from leifeng.core.idnumbers import InvalidId, normalize_phone
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people.models import Skill, Volunteer

# Counting every match of a million-row table costs more than the page itself; past this many the
# list says "more than N" and asks for a narrower search (the Excel export still has everything).
COUNT_CAP = 10_000


@dataclass
class VolunteerFilters:
    """What the list page, the list API and the Excel export filter by (same meaning everywhere)."""

    q: str = ""  # name, pinyin initials or full pinyin, volunteer number, or phone
    status: str = ""
    org_id: int | None = None  # this node and its subtree
    political_status: str = ""
    in_service_party_member: bool | None = None
    skill: str = ""

    @classmethod
    def from_params(cls, params) -> "VolunteerFilters":
        """From a GET QueryDict or dict; unknown or malformed values are ignored, never an error page."""

        def text(key: str) -> str:
            value = params.get(key)
            return str(value).strip() if value is not None else ""

        org_raw = text("org")
        isp = text("in_service_party_member").lower()
        return cls(
            q=text("q")[:100],
            status=text("status"),
            org_id=int(org_raw) if org_raw.isdigit() else None,
            political_status=text("political_status"),
            in_service_party_member={"1": True, "true": True, "on": True, "0": False, "false": False}.get(isp),
            skill=text("skill")[:50],
        )

    def is_empty(self) -> bool:
        return self == VolunteerFilters()


def search_q(term: str) -> Q:
    """One search box for everything a station worker might type.

    Every branch is a prefix or exact match on an indexed column, so PostgreSQL can answer it from
    indexes (a bitmap OR) instead of reading a million names: 张 / 张伟 (name), zw (initials),
    zhangw / zhang wei (full pinyin), LF000000123 (number), 13912345678 or 1391234 (phone).
    """
    term = term.strip()
    if not term:
        return Q()
    cond = Q(name__startswith=term)
    compact = "".join(term.split()).lower()
    if compact.isascii() and compact.isalpha():
        cond |= Q(name_initials__startswith=compact) | Q(name_pinyin__startswith=compact)
    if compact.isascii() and compact.isalnum() and not compact.isdigit() and any(c.isdigit() for c in compact):
        cond |= Q(number__startswith=compact.upper())
    digits = compact.removeprefix("+")
    if digits.isdigit():
        try:
            cond |= Q(phone=normalize_phone(digits))
        except InvalidId:
            if len(digits) >= 4:
                cond |= Q(phone__startswith=digits)
    return cond


def volunteer_list(*, actor, filters: VolunteerFilters | None = None) -> QuerySet[Volunteer]:
    """Volunteers in the actor's subtree, newest first, with what a list row shows joined in."""
    f = filters or VolunteerFilters()
    qs = scope.scoped(Volunteer.objects.select_related("org", "unit"), actor, Perm.VIEW)
    if f.q:
        qs = qs.filter(search_q(f.q))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.org_id is not None:
        node = scope.orgs(actor).filter(pk=f.org_id).values_list("path", flat=True).first()
        qs = qs.filter(org__path__startswith=node) if node else qs.none()
    if f.political_status:
        qs = qs.filter(political_status=f.political_status)
    if f.in_service_party_member is not None:
        qs = qs.filter(in_service_party_member=f.in_service_party_member)
    if f.skill:
        qs = qs.filter(skills__name=f.skill)
    return qs.order_by("-id")


class CappedPaginator(Paginator):
    """A Paginator that counts at most `cap` + 1 rows (SELECT COUNT(*) FROM (… LIMIT cap+1)).

    `capped` says the real total is larger; pages stop at the cap.
    """

    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        n = self.object_list[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)

    capped = False


def volunteer_page(*, actor, filters: VolunteerFilters, page: str | int | None, per_page: int = 50):
    """One page of `volunteer_list` for the list page: 2 queries (capped count, rows)."""
    return CappedPaginator(volunteer_list(actor=actor, filters=filters), per_page).get_page(page)


def volunteer_get(*, actor, number: str, perm: Perm = Perm.VIEW) -> Volunteer:
    """One volunteer by public number, or 404 when missing or out of scope."""
    return scope.get_or_404(
        Volunteer.objects.select_related("org", "unit", "user", "reviewed_by"), actor, perm, number=number
    )


def volunteer_for_user(*, user) -> Volunteer | None:
    """The signed-in person's own registration, if they have one."""
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.select_related("org", "unit").filter(user=user).first()


def volunteer_memberships(*, volunteer: Volunteer) -> list:
    """The teams a volunteer belongs to or asked to join (read-only on their profile)."""
    from leifeng.teams.models import TeamMembership

    return list(TeamMembership.objects.filter(volunteer=volunteer).select_related("team", "team__org").order_by("-id"))


def skill_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")


def _grouped(stations: list[Org]) -> list[tuple[str, list[tuple[int, str]]]]:
    """[(sub-center name, [(id, station name), …]), …] in tree order; one extra query for the group names."""
    prefixes = {s.path[:i] for s in stations for i in range(Org.steplen, len(s.path), Org.steplen)}
    groups = dict(
        Org.objects.filter(path__in=prefixes, level=OrgLevel.SUBCENTER).values_list("path", "name").order_by()
    )
    out: dict[str, list[tuple[int, str]]] = {}
    for s in stations:
        group = next(
            (groups[s.path[:i]] for i in range(len(s.path) - Org.steplen, 0, -Org.steplen) if s.path[:i] in groups),
            "",
        )
        label = s.name if s.level == OrgLevel.STATION else f"{s.name}（{s.get_level_display()}）"
        out.setdefault(group, []).append((s.pk, label))
    return list(out.items())


def station_choices(*, actor=None, perm: Perm | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """Stations and practice points a volunteer can belong to, grouped by sub-center.

    Anyone may pick any station when registering themselves; staff pick among their `perm` scope.
    """
    qs = Org.objects.filter(level__in=[OrgLevel.STATION, OrgLevel.POINT])
    if perm is not None:
        qs = scope.scoped(qs, actor, perm, field="")
    return _grouped(list(qs.only("id", "name", "level", "path").order_by("path")))


def org_filter_choices(*, actor) -> list[tuple[int, str]]:
    """Nodes of the actor's scope for the list filter, indented by depth."""
    rows = scope.orgs(actor).only("id", "name", "depth", "path").order_by("path")
    rows = list(rows)
    base = min((o.depth for o in rows), default=1)
    return [(o.pk, "\u3000" * (o.depth - base) + o.name) for o in rows]
