"""Hours pages: 'my hours' for volunteers, the hours review of an activity for organizers."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities.models import Post, Signup, SignupStatus
from leifeng.core.errors import NotFound
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.hours import selectors, services, stars
from leifeng.hours.panels import review_panels
from leifeng.hours.policy import claim_policy, may_change_hours
from leifeng.people.models import Volunteer

PER_PAGE = 50


def _int(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() else None


def _moment(value) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
def my_hours(request: HttpRequest) -> HttpResponse:
    """Total verified and back-filled hours, the star level with progress, records, corrections."""
    volunteer = selectors.my_volunteer(request.user)
    context: dict = {"volunteer": volunteer}
    if volunteer is not None:
        context.update(
            totals=selectors.totals_by_kind(volunteer=volunteer),
            star=stars.progress(volunteer),
            page=Paginator(selectors.record_list(actor=request.user, volunteer=volunteer), PER_PAGE).get_page(
                request.GET.get("page")
            ),
            corrections=list(selectors.correction_list(actor=request.user).filter(record__volunteer=volunteer)[:20]),
            claims=list(selectors.claim_list(actor=request.user).filter(volunteer=volunteer)[:20]),
            posts=list(
                Signup.objects.filter(volunteer=volunteer, status=SignupStatus.CONFIRMED, starts_at__lte=timezone.now())
                .select_related("post__activity")
                .order_by("-starts_at")[:20]
            ),
        )
    return render(request, "hours/my_hours.html", context)


@login_required
@require_POST
def correction_request(request: HttpRequest, pk: int) -> HttpResponse:
    attempt(
        request,
        lambda: services.correction_request(
            actor=request.user,
            record_id=pk,
            minutes=_int(request.POST.get("minutes")),
            reason=request.POST.get("reason", ""),
        ),
        _("Your request was sent to the organizer."),
    )
    return redirect("hours:my_hours")


@login_required
@require_POST
def claim_create(request: HttpRequest) -> HttpResponse:
    """A back-fill: the volunteer for a post they signed up for, or staff for anyone (from the review page)."""
    number = request.POST.get("volunteer_number", "").strip()
    volunteer_id = None
    if number:
        volunteer = Volunteer.objects.filter(number=number).first()
        volunteer_id = volunteer.pk if volunteer else -1
    post_id = _int(request.POST.get("post"))
    start, end = _moment(request.POST.get("started_at")), _moment(request.POST.get("ended_at"))
    if start is None or end is None:
        messages.error(request, _("Give the start and end times."))
    else:
        attempt(
            request,
            lambda: services.claim_create(
                actor=request.user,
                post_id=post_id,
                volunteer_id=volunteer_id,
                started_at=start,
                ended_at=end,
                note=request.POST.get("note", ""),
            ),
            _("The back-fill is waiting for approval by someone else."),
        )
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("hours:my_hours")


def _back_to_review(request: HttpRequest) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("hours:my_hours")


@login_required
@require_POST
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    attempt(
        request,
        lambda: services.claim_decide(
            actor=request.user, claim_id=pk, approve=approve, note=request.POST.get("note", "")
        ),
        _("Back-fill approved.") if approve else _("Back-fill rejected."),
    )
    return _back_to_review(request)


@login_required
@require_POST
def correction_answer(request: HttpRequest, pk: int) -> HttpResponse:
    accept = request.POST.get("decision") == "accept"
    attempt(
        request,
        lambda: services.correction_answer(
            actor=request.user,
            request_id=pk,
            accept=accept,
            answer=request.POST.get("answer", ""),
            minutes=_int(request.POST.get("minutes")),
        ),
        _("Correction made: a reversing entry and a new one.") if accept else _("Request rejected."),
    )
    return _back_to_review(request)


@login_required
@require_POST
def record_correct(request: HttpRequest, pk: int) -> HttpResponse:
    minutes = _int(request.POST.get("minutes"))
    attempt(
        request,
        lambda: services.record_correct(
            actor=request.user,
            record_id=pk,
            minutes=minutes if minutes is not None else -1,
            reason=request.POST.get("reason", ""),
        ),
        _("Correction made: a reversing entry and a new one."),
    )
    return _back_to_review(request)


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Hours review of an activity: records, claims and corrections; attendance adds its panels (flagged
    auto-closed presences, no-shows) through `hours.panels`."""
    try:
        activity = selectors.activity_for_review(actor=request.user, activity_id=pk)
    except NotFound as exc:
        raise_for_scope(exc)
    user = request.user
    corrections = list(selectors.open_corrections(actor=user, activity=activity)[:PER_PAGE])
    claims = list(selectors.pending_claims(actor=user, activity=activity)[:PER_PAGE])
    for claim in claims:
        claim.refusal = claim_policy.refusal(user, claim)
    return render(
        request,
        "hours/review.html",
        {
            "activity": activity,
            "todo": len(corrections) + len(claims),
            "can_change": may_change_hours(user, activity.org),
            "totals": selectors.totals_by_kind(activity=activity),
            "page": Paginator(selectors.record_list(actor=user, activity=activity), PER_PAGE).get_page(
                request.GET.get("page")
            ),
            "panels": review_panels(request, activity),
            "corrections": corrections,
            "claims": claims,
            "posts": list(Post.objects.filter(activity=activity).order_by("starts_at", "id")),
        },
    )
