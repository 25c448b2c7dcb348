"""Attendance pages: the kiosk (organizer's tablet), the scan page (volunteer's phone), roll call, duration codes."""

import contextlib
import uuid
from datetime import datetime

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities.models import Activity, Post
from leifeng.attendance import selectors, services
from leifeng.attendance.models import RollMark
from leifeng.attendance.policy import attendance_policy
from leifeng.core.errors import NotFound, ServiceError
from leifeng.core.pages import message_of

PER_PAGE = 50


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- kiosk


def _kiosk_context(request: HttpRequest, activity) -> dict:
    token = services.kiosk_token(activity)
    url = request.build_absolute_uri(reverse("attendance:scan") + f"?t={token}")
    return {
        "activity": activity,
        "qr": segno.make(url, error="m").svg_data_uri(scale=8, border=2),
        "scan_url": url,
        "rotate": services.KIOSK_ROTATE_SECONDS,
        "valid": services.KIOSK_TOKEN_MAX_AGE,
        "now": timezone.localtime(),
    }


@login_required
def kiosk(request: HttpRequest, pk: int) -> HttpResponse:
    """For the organizer's tablet: a QR code that changes every few seconds, and the posts' tools."""
    try:
        activity = selectors.activity_for_kiosk(actor=request.user, activity_id=pk)
    except NotFound:
        raise Http404 from None
    context = _kiosk_context(request, activity)
    context["posts"] = list(Post.objects.filter(activity=activity).order_by("starts_at", "id"))
    return render(request, "attendance/kiosk.html", context)


@login_required
def kiosk_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The QR partial the kiosk page polls (htmx, every KIOSK_ROTATE_SECONDS)."""
    try:
        activity = selectors.activity_for_kiosk(actor=request.user, activity_id=pk)
    except NotFound:
        raise Http404 from None
    return render(request, "attendance/kiosk.html#qr", _kiosk_context(request, activity))


@login_required
@require_POST
def kiosk_reset(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.kiosk_reset(actor=request.user, activity_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("New kiosk key: every code shown before no longer works."))
    return redirect("attendance:kiosk", pk=pk)


# ---------------------------------------------------------------- scan (volunteer)


@login_required
def scan(request: HttpRequest) -> HttpResponse:
    """Where the kiosk QR leads: one button that checks in (or out). A fresh key per page view makes a
    double tap or a resent form one request."""
    token = (request.POST.get("t") if request.method == "POST" else request.GET.get("t")) or ""
    activity = None
    with contextlib.suppress(ServiceError):  # not a code of ours: said below
        activity = Activity.objects.filter(pk=services.token_activity_id(token)).first()
    context = {"token": token, "activity": activity, "key": uuid.uuid4().hex, "result": None, "error": ""}
    if activity is None:
        context["error"] = _("This is not a check-in code of this platform.")
    elif request.method == "POST":
        try:
            context["result"] = services.check(
                actor=request.user,
                token=token,
                key=request.POST.get("key"),
                lat=_float(request.POST.get("lat")),
                lng=_float(request.POST.get("lng")),
            )
        except (ServiceError, ValidationError) as exc:
            context["error"] = message_of(exc)
    else:
        try:
            services.verify_token(activity, token)
        except ServiceError as exc:
            context["error"] = exc.message
    return render(request, "attendance/scan.html", context, status=200)


# ---------------------------------------------------------------- roll call


def _roll_context(request: HttpRequest, pk: int) -> dict:
    try:
        post, only = selectors.post_for_roll_call(actor=request.user, post_id=pk)
    except NotFound:
        raise Http404 from None
    roster = list(selectors.roll_call_roster(post=post, only=only))
    can_check = attendance_policy.may_run(request.user, post.activity.org)
    for row in roster:  # one idempotency key per person's form: a double tap or a resent form is one request
        row.key = uuid.uuid4().hex
    return {
        "post": post,
        "roster": roster,
        "marks": RollMark.choices,
        "can_check": can_check,
        "backdate_minutes": services.STAFF_BACKDATE_FREE.seconds // 60,
    }


@login_required
def roll_call(request: HttpRequest, pk: int) -> HttpResponse:
    """点名: the leader marks each member present, late or absent from a phone."""
    return render(request, "attendance/roll_call.html", _roll_context(request, pk))


@login_required
@require_POST
def roll_call_mark(request: HttpRequest, pk: int, volunteer_id: int) -> HttpResponse:
    at = None
    raw = request.POST.get("at", "").strip()
    if raw:
        try:
            at = timezone.make_aware(datetime.fromisoformat(raw)) if "T" in raw else None
        except ValueError:
            at = None
    try:
        services.roll_call_mark(
            actor=request.user, post_id=pk, volunteer_id=volunteer_id, mark=request.POST.get("mark", ""), at=at
        )
    except NotFound:
        raise Http404 from None
    except (ServiceError, ValidationError) as exc:
        messages.error(request, message_of(exc))
    context = _roll_context(request, pk)
    if request.htmx:
        return render(request, "attendance/roll_call.html#roster", context)
    return redirect("attendance:roll_call", pk=pk)


@login_required
@require_POST
def staff_check(request: HttpRequest, pk: int, volunteer_id: int) -> HttpResponse:
    """代签到 / 代签退: the organizer records that a person without a phone arrived or left.

    The time field starts empty: left empty it means now, the moment the button is pressed (the service's
    default), never the moment the page was drawn, so a page kept open for hours still checks out at the
    right time; a typed time is taken as typed (the service asks for a reason when it is long past)."""
    raw = request.POST.get("at", "").strip()
    at = None
    try:
        if raw:
            at = datetime.fromisoformat(raw)
            at = timezone.make_aware(at) if timezone.is_naive(at) else at
        result = services.staff_check(
            actor=request.user,
            post_id=pk,
            volunteer_id=volunteer_id,
            action=request.POST.get("action", ""),
            key=request.POST.get("key"),
            at=at,
            reason=request.POST.get("reason", ""),
        )
    except NotFound:
        raise Http404 from None
    except ValueError:
        messages.error(request, _("The time is not a date and time (YYYY-MM-DD HH:MM)."))
    except (ServiceError, ValidationError) as exc:
        messages.error(request, message_of(exc))
    else:
        att = result.attendance
        moment = att.checked_in_at if result.action == "in" else att.checked_out_at
        text = (
            _("%(name)s checked in at %(time)s.") if result.action == "in" else _("%(name)s checked out at %(time)s.")
        )
        messages.success(
            request, text % {"name": att.volunteer.name, "time": timezone.localtime(moment).strftime("%m-%d %H:%M")}
        )
    context = _roll_context(request, pk)
    if request.htmx:
        return render(request, "attendance/roll_call.html#roster", context)
    return redirect("attendance:roll_call", pk=pk)


# ---------------------------------------------------------------- duration codes


@login_required
@require_POST
def code_create(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        dc = services.duration_code_create(actor=request.user, post_id=pk)
    except NotFound:
        raise Http404 from None
    except (ServiceError, ValidationError) as exc:
        messages.error(request, message_of(exc))
        post = Post.objects.filter(pk=pk).first()
        return redirect("attendance:kiosk", pk=post.activity_id) if post else redirect("home:home")
    return render(request, "attendance/code.html", {"code": dc, "post": dc.post})


@login_required
def code_enter(request: HttpRequest) -> HttpResponse:
    """The volunteer types the duration code the organizer handed out."""
    context = {"key": uuid.uuid4().hex, "result": None, "error": "", "code": ""}
    if request.method == "POST":
        context["code"] = request.POST.get("code", "")
        try:
            context["result"] = services.duration_code_enter(
                actor=request.user, code=context["code"], key=request.POST.get("key")
            )
        except (ServiceError, ValidationError) as exc:
            context["error"] = message_of(exc)
    return render(request, "attendance/code_enter.html", context)


# ---------------------------------------------------------------- attendance's part of the hours review


def review_panel(request: HttpRequest, activity) -> dict:
    """Forgotten check-outs closed automatically (the organizer should look at them) and no-shows, shown on the
    hours review of `activity` (registered with `hours.panels` in apps.py; hours checked the actor may review)."""
    return {
        "flagged": list(selectors.flagged(activity=activity)[:PER_PAGE]),
        "no_shows": list(selectors.no_shows(activity=activity)[:PER_PAGE]),
    }
