"""Pages: the inbox (everyone, own messages only) and message relays (短信接力, staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leifeng.core.errors import NotFound, ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.core.roles import Perm
from leifeng.notifications import selectors, services
from leifeng.notifications.forms import RelayForm
from leifeng.notifications.models import DeliveryStatus
from leifeng.notifications.policy import relay_policy
from leifeng.orgs import policy as org_policy

PER_PAGE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.inbox_list(actor=request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "unread": selectors.unread_count(actor=request.user),
        "unread_only": unread_only,
        "can_relay": relay_policy.is_staff(request.user, Perm.CHANGE),
    }
    return render(request, "notifications/inbox.html", context)


def unread_badge(request: HttpRequest) -> HttpResponse:
    """A tiny fragment for the menu (hx-get, hx-trigger="load, every 60s"): the unread count, or nothing."""
    n = selectors.unread_count(actor=request.user)
    # Rendered without the request: the menu's context processors would cost two more queries per poll.
    resp = HttpResponse(render_to_string("notifications/unread_badge.html", {"n": n}))
    resp["Cache-Control"] = "private, no-store"
    return resp


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        n = services.notification_mark_read(actor=request.user, notification_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    if request.htmx:
        return render(request, "notifications/inbox.html#item", {"n": n})
    if request.POST.get("next") == "link" and n.link.startswith("/"):
        return redirect(n.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(actor=request.user)
    messages.success(
        request, ngettext("%(n)d message marked read.", "%(n)d messages marked read.", count) % {"n": count}
    )
    return redirect("notifications:inbox")


def _staff_or_404(request: HttpRequest) -> None:
    if not relay_policy.is_staff(request.user, Perm.VIEW):
        raise Http404


@login_required
def relay_list(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    page = Paginator(selectors.relay_list(actor=request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/relay_list.html",
        {"page": page, "can_send": relay_policy.is_staff(request.user, Perm.CHANGE)},
    )


@login_required
def relay_create(request: HttpRequest) -> HttpResponse:
    if not relay_policy.is_staff(request.user, Perm.CHANGE):
        raise Http404
    orgs = org_policy.orgs(request.user, Perm.CHANGE).order_by("path")
    form = RelayForm(request.POST or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        try:
            relay = services.relay_send(
                actor=request.user,
                org=form.cleaned_data["org"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                roles=form.cleaned_data["roles"],
            )
        except ServiceError as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext("Relayed to %(n)d person.", "Relayed to %(n)d people.", relay.recipient_count)
                % {"n": relay.recipient_count},
            )
            return redirect("notifications:relay_detail", pk=relay.pk)
    return render(request, "notifications/relay_form.html", {"form": form})


@login_required
def relay_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        relay = selectors.relay_get(actor=request.user, relay_id=pk)
    except NotFound as exc:
        raise Http404 from exc
    rows = list(selectors.relay_recipients_status(relay=relay))
    counts: dict[str, int] = dict.fromkeys(DeliveryStatus.values, 0)
    for n in rows:
        for d in n.deliveries.all():
            counts[d.status] = counts.get(d.status, 0) + 1
    counts["waiting"] = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]
    context = {
        "relay": relay,
        "rows": rows,
        "counts": counts,
        "read": sum(1 for n in rows if n.read_at),
        "can_retry": relay_policy.allows(request.user, Perm.CHANGE, relay),
    }
    if request.htmx:
        return render(request, "notifications/relay_detail.html#status", context)
    return render(request, "notifications/relay_detail.html", context)


@login_required
@require_POST
def relay_retry(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        count = services.relay_retry_failed(actor=request.user, relay_id=pk)
    except ServiceError as exc:
        raise_for_scope(exc)
        raise
    messages.success(
        request, ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", count) % {"n": count}
    )
    return redirect("notifications:relay_detail", pk=pk)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    done = attempt(request, lambda: services.delivery_retry(actor=request.user, delivery_id=pk), _("Queued again."))
    if not done:
        return redirect("notifications:relay_list")
    return redirect("notifications:relay_detail", pk=done.value.notification.relay_id)
