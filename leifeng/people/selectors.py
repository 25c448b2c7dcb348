"""Reads about volunteers, always scoped to the actor (leifeng.core.scope)."""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from leifeng.core import crypto
from leifeng.core.idnumbers import IdType, InvalidId, normalize_phone, parse_id
from leifeng.core.scope import Perm
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people.models import Skill, Volunteer
from leifeng.people.policy import volunteer_policy

# Counting every match of a million-row table costs more than the page itself; past this many the
# list says "more than N" (and still pages on). The Excel export has everything.
COUNT_CAP = 1_000


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
    zhangw / zhang wei (full pinyin), LF000000123 (number), 13912345678 or 1391234 (phone), or a
    full ID number (matched through its blind index).
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
    if compact.isascii() and compact.isalnum() and len(compact) >= 5:
        # A full ID number is found through its blind index (exact, indexed; the number itself is never stored).
        indexes = []
        for id_type in IdType.values:
            try:
                parsed = parse_id(id_type, compact)
            except InvalidId:
                continue
            indexes.append(crypto.blind_index(id_type, parsed.number))
        if indexes:
            cond |= Q(id_index__in=indexes)
    digits = compact.removeprefix("+")
    if digits.isdigit():
        try:
            cond |= Q(phone=normalize_phone(digits))
        except InvalidId:
            if len(digits) >= 4:
                cond |= Q(phone__startswith=digits)
    return cond


def volunteer_list(*, actor, filters: VolunteerFilters | None = None) -> QuerySet[Volunteer]:
    """Volunteers in the actor's subtree, newest first, with what a list row shows joined in.

    Scope comes from people.policy (volunteer_policy.list_q), resolved to station ids first: the planner then knows
    how many rows a station has and a station's list reads 50 index entries, not the whole table.
    """
    f = filters or VolunteerFilters()
    qs = Volunteer.objects.select_related("org", "unit")
    where = volunteer_policy.list_q(actor, f.org_id)
    if where is not None:
        qs = qs.filter(where)
    if f.q:
        qs = qs.filter(search_q(f.q))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.political_status:
        qs = qs.filter(political_status=f.political_status)
    if f.in_service_party_member is not None:
        qs = qs.filter(in_service_party_member=f.in_service_party_member)
    if f.skill:
        with_skill = Volunteer.skills.through.objects.filter(skill__name=f.skill).values("volunteer_id")
        qs = qs.filter(pk__in=with_skill)
    return qs.order_by("-id")


class CappedPage(Page):
    """A page that knows whether another follows even when the total was not counted."""

    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self) -> bool:
        return self._has_more


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 matches (SELECT COUNT(*) FROM (… LIMIT cap+1), unordered).

    Past the cap `capped` is true, the total shows as "more than cap", and paging goes on as far as
    there are rows: each page fetches one row more than it shows to know whether a next one exists.
    """

    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        n = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = n > self.cap
        return min(n, self.cap)

    capped = False

    def validate_number(self, number) -> int:
        """Past the cap the last page is unknown: any page from 1 on is allowed (an empty one past the end)."""
        if not (self.count and self.capped):
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("That page number is not an integer")) from None
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return CappedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


def volunteer_page(*, actor, filters: VolunteerFilters, page: str | int | None, per_page: int = 50):
    """One page of `volunteer_list` for the list page: org ids, a capped count, the rows (3 queries)."""
    return CappedPaginator(volunteer_list(actor=actor, filters=filters), per_page).get_page(page)


def volunteer_get(*, actor, number: str, perm: Perm = Perm.VIEW) -> Volunteer:
    """One volunteer by public number, or 404 when missing or out of scope."""
    qs = Volunteer.objects.select_related("org", "unit", "user", "reviewed_by")
    return volunteer_policy.get_or_404(actor, perm, qs, number=number)


def volunteer_for_user(*, user) -> Volunteer | None:
    """The signed-in person's own registration, if they have one."""
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.select_related("org", "unit").filter(user=user).first()


def volunteer_memberships(*, volunteer: Volunteer) -> list:
    """The teams a volunteer belongs to or asked to join (read-only on their profile).

    Read through the reverse relation teams hang on Volunteer: people sits below teams and imports nothing of it.
    """
    return list(volunteer.memberships.select_related("team", "team__org").order_by("-id"))


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
    qs = volunteer_policy.stations(actor, perm)
    return _grouped(list(qs.only("id", "name", "level", "path").order_by("path")))


def registration_station(*, org_id: int) -> Org:
    """A station or point volunteers can register with; anything else is 404."""
    org = volunteer_policy.stations().filter(pk=org_id).first()
    if org is None:
        raise Http404
    return org


def org_filter_choices(*, actor) -> list[tuple[int, str]]:
    """Nodes of the actor's scope for the list filter, indented by depth."""
    rows = list(org_policy.orgs(actor).order_by("path").values_list("id", "name", "depth"))
    base = min((depth for _, _, depth in rows), default=1)
    return [(pk, "\u3000" * (depth - base) + name) for pk, name, depth in rows]
