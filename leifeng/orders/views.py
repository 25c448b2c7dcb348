"""Order pages: residents (menu, order, track, rate), staff (inbox, review, dispatch, escalations, figures),
team leaders and volunteers (my orders: accept, decline, complete, grab).

parse → authorize → one service or selector → render.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.core.roles import Perm
from leifeng.orders import excel, selectors, services
from leifeng.orders.forms import CompleteForm, DispatchForm, MenuItemEditForm, MenuItemForm, OrderForm, RateForm
from leifeng.orders.models import MenuItem, OrderChannel, OrderStatus
from leifeng.orders.policy import led_teams, order_policy, team_may_grab
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org, OrgLevel
from leifeng.teams.models import MembershipStatus

PER_PAGE = 50
S = OrderStatus


# ---------------------------------------------------------------- residents (no account)


def _submit_order(request: HttpRequest, form: OrderForm, *, org_id: int, actor=None):
    """The one way both order forms (the resident's page, staff entering on a resident's behalf) become an
    OrderInput and an order: the order, or None with the service's refusal shown on the form."""
    d = form.cleaned_data
    data = services.OrderInput(
        org_id=org_id,
        resident_name=d["resident_name"],
        resident_phone=d["resident_phone"],
        address=d["address"],
        latitude=d["latitude"],
        longitude=d["longitude"],
        description=d["description"],
        menu_item_id=d["menu_item"],
        wanted_from=d["wanted_from"],
        wanted_until=d["wanted_until"],
        channel=d.get("channel") or OrderChannel.WEB,  # the resident's form has no channel: always 平台
        photo=request.FILES.get("photo"),
        idempotency_key=d["idempotency_key"],
    )
    try:
        order, _created = services.order_submit(actor=actor, data=data)
    except (ServiceError, ValidationError) as exc:
        apply_errors(form, exc)
        return None
    return order


def menu(request: HttpRequest) -> HttpResponse:
    """Pick a station, then see its menu and the menus of the nodes above it."""
    station_id = request.GET.get("station", "")
    station = selectors.public_station(station_id) if station_id else None
    return render(
        request,
        "orders/menu.html",
        {
            "station": station,
            "items": selectors.menu_for(station) if station else [],
            "stations": Org.objects.filter(level__in=[OrgLevel.STATION, OrgLevel.POINT]).order_by("path")
            if station is None
            else [],
        },
    )


def order_new(request: HttpRequest) -> HttpResponse:
    station = selectors.public_station(request.GET.get("station") or request.POST.get("station") or "")
    items = list(selectors.menu_for(station))
    initial = {"menu_item": request.GET.get("item")} if request.GET.get("item") else {}
    form = OrderForm(request.POST or None, request.FILES or None, menu=items, initial=initial)
    if request.method == "POST" and form.is_valid():
        order = _submit_order(request, form, org_id=station.pk)
        if order is not None:
            messages.success(request, _("Your order is in. Keep this page's address: it is your private link."))
            return redirect("orders:track", token=order.token)
    return render(request, "orders/order_new.html", {"form": form, "station": station, "items": items})


def track(request: HttpRequest, token: str) -> HttpResponse:
    order = selectors.order_by_token(token)
    return render(
        request,
        "orders/track.html",
        {
            "order": order,
            "events": selectors.order_events(order=order, public_only=True),
            "rate_form": RateForm() if order.status == S.COMPLETED else None,
            "can_cancel": order.status in (S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED),
        },
    )


@require_POST
def track_rate(request: HttpRequest, token: str) -> HttpResponse:
    selectors.order_by_token(token)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose 1 to 5 stars."))
    else:
        d = form.cleaned_data
        attempt(
            request,
            lambda: services.order_rate(token=token, rating=d["rating"], comment=d["comment"]),
            _("Thank you for your rating."),
        )
    return redirect("orders:track", token=token)


@require_POST
def track_cancel(request: HttpRequest, token: str) -> HttpResponse:
    selectors.order_by_token(token)
    attempt(
        request,
        lambda: services.order_cancel(token=token, reason=request.POST.get("reason", "")),
        _("Your order is cancelled."),
    )
    return redirect("orders:track", token=token)


# ---------------------------------------------------------------- staff


def _require_staff(request: HttpRequest) -> None:
    if not order_policy.is_staff(request.user, Perm.VIEW):
        raise Http404


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    filters = selectors.OrderFilters.from_params(request.GET)
    if not request.GET.get("status") and not filters.q and not filters.overdue and not filters.duplicates:
        filters.status = S.SUBMITTED
    page = Paginator(selectors.order_list(actor=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = selectors.status_counts(actor=request.user)
    context = {
        "page": page,
        "filters": filters,
        "tabs": [(value, label, counts[value]) for value, label in S.choices],
        "can_enter": order_policy.is_staff(request.user, Perm.CHANGE),
        "export_query": urlencode(
            {
                k: v
                for k, v in (
                    ("status", filters.status),
                    ("q", filters.q),
                    ("org", filters.org_id or ""),
                    ("overdue", "1" if filters.overdue else ""),
                    ("duplicates", "1" if filters.duplicates else ""),
                )
                if v
            }
        ),
    }
    if request.htmx:
        return render(request, "orders/inbox.html#results", context)
    return render(request, "orders/inbox.html", context)


@login_required
def staff_new(request: HttpRequest) -> HttpResponse:
    """Staff and grid workers enter an order on a resident's behalf, with the channel it came by."""
    orgs = org_policy.orgs(request.user, Perm.CHANGE).order_by("path")
    if not orgs.exists():
        raise Http404
    chosen = request.POST.get("org") or request.GET.get("org")
    station = orgs.filter(pk=chosen).first() if str(chosen or "").isdigit() else None
    items = list(selectors.menu_for(station or orgs.first()))
    form = OrderForm(request.POST or None, request.FILES or None, menu=items, staff_orgs=orgs)
    if request.method == "POST" and form.is_valid():
        order = _submit_order(request, form, org_id=form.cleaned_data["org"].pk, actor=request.user)
        if order is not None:
            messages.success(request, _("Order %(number)s entered.") % {"number": order.number})
            return redirect("orders:order_detail", pk=order.pk)
    return render(request, "orders/staff_new.html", {"form": form})


def _detail_context(request: HttpRequest, pk: int) -> dict:
    order = selectors.order_get(actor=request.user, order_id=pk)
    access = selectors.order_access(actor=request.user, order=order)
    mine = selectors.my_assignment_states(actor=request.user, order=order)
    people = []
    if access.answer and order.status == S.TAKEN:
        from leifeng.orders.models import AssignmentStatus
        from leifeng.people.models import Volunteer

        team_ids = [t.pk for t in led_teams(request.user) if t.pk == order.team_id]
        people = list(
            Volunteer.objects.filter(
                memberships__team_id__in=team_ids, memberships__status=MembershipStatus.ACTIVE
            ).distinct()
        ) + [a.volunteer for a in order.assignments.filter(status=AssignmentStatus.ACCEPTED, volunteer__isnull=False)]
    return {
        "order": order,
        "access": access,
        "can_take": "offered" in mine and order.status in (S.DISPATCHED, S.TAKEN),
        "can_complete": "accepted" in mine and order.status == S.TAKEN,
        "events": selectors.order_events(order=order),
        "assignments": order.assignments.select_related("team", "volunteer"),
        "merge_targets": selectors.merge_targets(actor=request.user, order=order) if access.change else [],
        "grab_teams": [t for t in led_teams(request.user) if team_may_grab(t, order)] if access.grab else [],
        "complete_form": CompleteForm(people=people),
        "photos": order.photos.all(),
        "servers": order.servers.select_related("volunteer"),
    }


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "orders/order_detail.html", _detail_context(request, pk))


@login_required
@require_POST
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Every button on the order page posts here; one service call each."""
    user, post = request.user, request.POST
    selectors.order_get(actor=user, order_id=pk)
    calls: dict[str, tuple[Callable[[], object], str]] = {
        "accept": (lambda: services.order_accept(actor=user, order_id=pk, note=post.get("note", "")), _("Accepted.")),
        "reject": (
            lambda: services.order_reject(actor=user, order_id=pk, reason=post.get("reason", "")),
            _("Rejected."),
        ),
        "merge": (
            lambda: services.order_merge(actor=user, order_id=pk, into_id=post.get("into", "")),
            _("Merged."),
        ),
        "pass_up": (
            lambda: services.order_pass_up(actor=user, order_id=pk, note=post.get("note", "")),
            _("Passed up to the node above."),
        ),
        "cancel": (
            lambda: services.order_cancel(actor=user, order_id=pk, reason=post.get("reason", "")),
            _("Cancelled."),
        ),
        "recall": (
            lambda: services.order_recall(actor=user, order_id=pk, reason=post.get("reason", "")),
            _("Recalled; dispatch it again."),
        ),
        "take": (lambda: services.order_take(actor=user, order_id=pk), _("You accepted the order.")),
        "decline": (
            lambda: services.order_decline(actor=user, order_id=pk, reason=post.get("reason", "")),
            _("Declined; the station will dispatch it again."),
        ),
        "grab": (
            lambda: services.order_grab(actor=user, order_id=pk, team_id=post.get("team", "")),
            _("The order is yours."),
        ),
        "follow_up": (
            lambda: services.order_follow_up(actor=user, order_id=pk, note=post.get("note", "")),
            _("Follow-up closed."),
        ),
        "redo": (
            lambda: services.order_follow_up(actor=user, order_id=pk, note=post.get("note", ""), redo=True),
            _("Back to dispatch."),
        ),
    }
    if action == "complete":
        form = CompleteForm(post, people=[])
        form.fields["volunteers"].choices = [(v, v) for v in post.getlist("volunteers")]
        if not form.is_valid():
            messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
            return redirect("orders:order_detail", pk=pk)
        d = form.cleaned_data
        data = services.CompletionInput(
            notes=d["notes"],
            minutes=d["minutes"],
            volunteer_ids=d["volunteers"],
            photos=request.FILES.getlist("photos"),
        )
        calls["complete"] = (
            lambda: services.order_complete(actor=user, order_id=pk, data=data),
            _("Completed; the hours are recorded."),
        )
    if action not in calls:
        raise Http404
    call, success = calls[action]
    attempt(request, call, success)
    if action in ("take", "decline", "grab", "complete") and "next" in post and post["next"] == "mine":
        return redirect("orders:my_orders")
    try:
        selectors.order_get(actor=user, order_id=pk)
    except Http404:
        return redirect("orders:my_orders")
    return redirect("orders:order_detail", pk=pk)


def _suggestions(order) -> list:
    """The matching engine's ranked suggestions (another module); nothing when it is not there yet."""
    try:
        from leifeng.orders.dispatch.matching import suggest
    except ImportError:
        return []
    try:
        return list(suggest(order, limit=5))
    except Exception:
        return []


@login_required
def dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    """The dispatch board of one order: suggestions, a team or named volunteers, push down, open for grabbing."""
    order = selectors.order_get(actor=request.user, order_id=pk)
    if not order_policy.may_run(request.user, order):
        raise Http404
    teams, volunteers = selectors.dispatch_candidates(order=order)
    form = DispatchForm(request.POST or None, teams=teams, volunteers=volunteers)
    if request.method == "POST":
        mode = request.POST.get("mode", "direct")
        if form.is_valid():
            d = form.cleaned_data
            if mode == "grab":
                call = lambda: services.order_open_grab(  # noqa: E731
                    actor=request.user, order_id=pk, promised_by=d["promised_by"], note=d["note"]
                )
                ok = _("Open for grabbing by eligible teams.")
            elif mode == "down":
                call = lambda: services.order_push_down(  # noqa: E731
                    actor=request.user, order_id=pk, org_id=request.POST.get("org", ""), note=d["note"]
                )
                ok = _("Handed down.")
            else:
                call = lambda: services.order_dispatch(  # noqa: E731
                    actor=request.user,
                    order_id=pk,
                    team_id=d["team"],
                    volunteer_ids=d["volunteers"],
                    promised_by=d["promised_by"],
                    note=d["note"],
                )
                ok = _("Dispatched.")
            try:
                call()
            except (ServiceError, ValidationError) as exc:
                raise_for_scope(exc)
                apply_errors(form, exc)
            else:
                messages.success(request, ok)
                return redirect("orders:order_detail", pk=pk)
    has_partial = True
    try:
        select_template(["orders/_suggestions.html"])
    except Exception:
        has_partial = False
    return render(
        request,
        "orders/dispatch.html",
        {
            "order": order,
            "form": form,
            "suggestions": _suggestions(order) if has_partial and order.status == S.ACCEPTED else [],
            "has_suggestions_partial": has_partial,
            "children": selectors.push_down_targets(order=order),
        },
    )


@login_required
def escalations(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    page = Paginator(selectors.escalations(actor=request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/escalations.html", {"page": page})


def _chart_data(data: dict) -> dict:
    """What orders/figures.js draws (passed with json_script): numbers and translated labels only."""
    rows = [data["total"], *data["nodes"], *data["teams"]]
    return {
        "statuses": [{"label": str(label), "value": n} for _value, label, n in data["statuses"]],
        "rows": [r.label for r in rows],
        "median_accept_h": [r.median_accept_h for r in rows],
        "median_complete_h": [r.median_complete_h for r in rows],
        "satisfaction": [r.satisfaction for r in rows],
        "text": {
            "orders": _("Number of orders"),
            "accept": _("Median time to accept (h)"),
            "complete": _("Median time to complete (h)"),
            "satisfaction": _("Satisfaction (average stars)"),
        },
    }


def _org_param(request: HttpRequest) -> int | None:
    org_raw = request.GET.get("org", "")
    return int(org_raw) if org_raw.isdigit() else None


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    data = selectors.figures(actor=request.user, org_id=_org_param(request))
    return render(request, "orders/figures.html", {**data, "chart": _chart_data(data)})


def _xlsx(result, name: str) -> FileResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        result.file, as_attachment=True, filename=f"{name}_{stamp}.xlsx", content_type=excel.XLSX_CONTENT_TYPE
    )


@login_required
def figures_export(request: HttpRequest) -> FileResponse:
    """The figures page (same ?org=) as .xlsx."""
    _require_staff(request)
    return _xlsx(excel.figures_export(actor=request.user, org_id=_org_param(request)), _("order-figures"))


@login_required
def inbox_export(request: HttpRequest) -> FileResponse:
    """The inbox list with the same query string (status, q, org, overdue, duplicates) as .xlsx; all pages."""
    _require_staff(request)
    filters = selectors.OrderFilters.from_params(request.GET)
    return _xlsx(excel.orders_export(actor=request.user, filters=filters), _("orders"))


@login_required
def menus(request: HttpRequest) -> HttpResponse:
    """Staff: the menus of their nodes, and a form to add a service."""
    _require_staff(request)
    orgs = org_policy.orgs(request.user, Perm.CHANGE).order_by("path")
    form = MenuItemForm(request.POST or None, orgs=orgs) if orgs.exists() else None
    if request.method == "POST" and form is not None and form.is_valid():
        d = form.cleaned_data
        data = services.MenuItemInput(
            org_id=d["org"].pk,
            title=d["title"],
            category=d["category"],
            description=d["description"],
            service_area=d["service_area"],
            time_windows=d["time_windows"],
            expected_minutes=d["expected_minutes"],
            points=d["points"],
        )
        try:
            services.menu_item_create(actor=request.user, data=data)
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Service added to the menu."))
            return redirect("orders:menus")
    items = selectors.menu_list(actor=request.user).prefetch_related("teams")
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/menus.html", {"page": page, "form": form})


@login_required
def menu_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff who may change the node: edit a service of its menu (texts, duration, points, teams, shown)."""
    item = selectors.menu_item_get(actor=request.user, item_id=pk)
    teams = selectors.menu_team_choices(org=item.org)
    initial = {
        "title": item.title,
        "category": item.category,
        "description": item.description,
        "service_area": item.service_area,
        "time_windows": item.time_windows,
        "expected_minutes": item.expected_minutes,
        "points": item.points,
        "active": item.active,
        "teams": list(item.teams.values_list("pk", flat=True)),
    }
    form = MenuItemEditForm(request.POST or None, initial=initial, teams=teams)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.menu_item_update(
                actor=request.user,
                item_id=pk,
                team_ids=d["teams"],
                title=d["title"],
                category=d["category"],
                description=d["description"],
                service_area=d["service_area"],
                time_windows=d["time_windows"],
                expected_minutes=d["expected_minutes"],
                points=d["points"],
                active=d["active"],
            )
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orders:menus")
    return render(request, "orders/menu_edit.html", {"item": item, "form": form})


@login_required
@require_POST
def menu_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    item = MenuItem.objects.filter(pk=pk).first()
    if item is None:
        raise Http404
    attempt(
        request,
        lambda: services.menu_item_update(actor=request.user, item_id=pk, active=not item.active),
        _("Saved."),
    )
    return redirect("orders:menus")


# ---------------------------------------------------------------- team leaders and volunteers


@login_required
def my_orders(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_orders(actor=request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/my_orders.html",
        {"page": page, "grabbable": selectors.grabbable(actor=request.user), "teams": led_teams(request.user)},
    )
