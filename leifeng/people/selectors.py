"""Reads about volunteers, always scoped to the actor (leifeng.core.scope)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from leifeng.core import scope
from leifeng.core.idnumbers import InvalidId, normalize_phone
from leifeng.core.scope import Perm
from leifeng.people.models import Volunteer


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
        org_raw = (params.get("org") or "").strip()
        isp = (params.get("in_service_party_member") or "").strip().lower()
        return cls(
            q=(params.get("q") or "").strip(),
            status=(params.get("status") or "").strip(),
            org_id=int(org_raw) if org_raw.isdigit() else None,
            political_status=(params.get("political_status") or "").strip(),
            in_service_party_member={"1": True, "true": True, "0": False, "false": False}.get(isp),
            skill=(params.get("skill") or "").strip(),
        )


def search_q(term: str) -> Q:
    """One search box for everything a station worker might type."""
    term = term.strip()
    if not term:
        return Q()
    cond = Q(name__startswith=term) | Q(number=term.upper())
    lowered = term.lower()
    if lowered.isascii() and lowered.isalpha():
        cond |= Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    if term.isdigit() or term.startswith("+"):
        try:
            cond |= Q(phone=normalize_phone(term))
        except InvalidId:
            if len(term) >= 4:
                cond |= Q(phone__startswith=term)
    if len(term) >= 2 and not term.isascii():
        cond |= Q(name__contains=term)
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


def volunteer_get(*, actor, number: str, perm: Perm = Perm.VIEW) -> Volunteer:
    """One volunteer by public number, or 404 when missing or out of scope."""
    return scope.get_or_404(Volunteer.objects.select_related("org", "unit", "user"), actor, perm, number=number)
