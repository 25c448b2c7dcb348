"""Pages of the organization tree: parse → authorize → one service or selector → render."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from leifeng.core import errors
from leifeng.core.forms import apply_errors
from leifeng.core.pages import raise_for_scope
from leifeng.core.scope import Perm
from leifeng.orgs import policy, selectors, services
from leifeng.orgs.forms import (
    LeadingGroupForm,
    LeadingGroupMemberForm,
    OrgForm,
    OrgMoveForm,
    PositionForm,
    UnitFilterForm,
    UnitForm,
)
from leifeng.orgs.models import Org, OrgLevel, levels_below

UNITS_PER_PAGE = 50


# --- helpers -------------------------------------------------------------------------------------


def _need(actor, perm: Perm, org: Org | None) -> None:
    """The object is already in view scope (else 404); lacking the right to change it is a 403."""
    if not policy.org_policy.allows_at(actor, perm, org):
        raise PermissionDenied


def _on_form(form, call: Callable, **kwargs):
    """Run a service; 404/403 as `core.pages` says, any other refusal lands on the form (`core.forms`).

    Returns the service's result, or None when it refused."""
    try:
        return call(**kwargs)
    except (ValidationError, errors.ServiceError) as exc:
        raise_for_scope(exc)
        apply_errors(form, exc)
        return None


def _form_page(request, *, form, title: str, cancel: str, submit: str | None = None, intro: str = "", **extra):
    context = {"form": form, "title": title, "cancel": cancel, "submit": submit or _("Save"), "intro": intro}
    return render(request, "orgs/form.html", context | extra)


def _confirm_page(request, *, title: str, message: str, cancel: str):
    return render(request, "orgs/confirm.html", {"title": title, "message": message, "cancel": cancel})


def _detail_url(org_id: int) -> str:
    return reverse("orgs:org_detail", args=[org_id])


# --- the tree ------------------------------------------------------------------------------------


@login_required
def tree(request):
    """The whole visible tree on one page, each subtree collapsible, with counts."""
    roots = selectors.org_tree(actor=request.user)
    return render(
        request,
        "orgs/tree.html",
        {"roots": roots, "can_add_root": policy.org_policy.is_platform_admin(request.user)},
    )


@login_required
def org_detail(request, pk: int):
    detail = selectors.org_detail(actor=request.user, pk=pk)
    org = detail.org
    can = {
        "manage": policy.org_policy.allows(request.user, Perm.MANAGE_ORG, org),
        "change": policy.org_policy.allows(request.user, Perm.CHANGE, org),
        "delete": policy.org_policy.may_delete(request.user, org),
        "add_child": policy.org_policy.allows(request.user, Perm.MANAGE_ORG, org) and bool(levels_below(org.level)),
    }
    return render(request, "orgs/org_detail.html", {"d": detail, "org": org, "can": can})


@login_required
def org_create(request, pk: int | None = None):
    """A child of node `pk`, or a new root (platform admins) when there is no `pk`."""
    parent = selectors.org_get(actor=request.user, pk=pk) if pk is not None else None
    _need(request.user, Perm.MANAGE_ORG, parent)
    levels = levels_below(parent.level) if parent else list(OrgLevel.values)
    if not levels:
        raise PermissionDenied
    form = OrgForm(request.POST or None, levels=levels, initial={"level": levels[0]})
    if request.method == "POST" and form.is_valid():
        org = _on_form(form, services.org_create, actor=request.user, parent=parent, **form.cleaned_data)
        if org is not None:
            messages.success(request, _("%(name)s was added.") % {"name": org.name})
            return redirect(_detail_url(org.pk))
    title = _("Add a node under %(name)s") % {"name": parent.name} if parent else _("Add a top-level node")
    return _form_page(
        request, form=form, title=title, cancel=_detail_url(parent.pk) if parent else reverse("orgs:tree")
    )


@login_required
def org_edit(request, pk: int):
    org = selectors.org_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, org)
    levels = selectors.levels_allowed_for(org=org)
    fields = ["name", "level", "division_code", "address", "contact_name", "contact_phone"]
    form = OrgForm(request.POST or None, levels=levels, initial={f: getattr(org, f) for f in fields})
    if (
        request.method == "POST"
        and form.is_valid()
        and _on_form(form, services.org_update, actor=request.user, org=org, **form.cleaned_data) is not None
    ):
        messages.success(request, _("Changes saved."))
        return redirect(_detail_url(org.pk))
    return _form_page(request, form=form, title=_("Edit %(name)s") % {"name": org.name}, cancel=_detail_url(org.pk))


@login_required
def org_move(request, pk: int):
    """Pick a new parent among the nodes one manages; the subtree moves along."""
    org = selectors.org_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, org)
    targets = selectors.move_targets(actor=request.user, org=org)
    form = OrgMoveForm(request.POST or None, targets=targets)
    if request.method == "POST" and form.is_valid():
        new_parent = form.cleaned_data["parent"]
        if _on_form(form, services.org_move, actor=request.user, org=org, new_parent=new_parent) is not None:
            messages.success(
                request, _("%(name)s now sits under %(parent)s.") % {"name": org.name, "parent": new_parent.name}
            )
            return redirect(_detail_url(org.pk))
    intro = _("The node moves with everything below it: child nodes, volunteers, teams and units.")
    return _form_page(
        request,
        form=form,
        title=_("Move %(name)s") % {"name": org.name},
        cancel=_detail_url(org.pk),
        submit=_("Move"),
        intro=intro,
        empty=not targets.exists(),
        empty_message=_("None of the nodes you manage can take this node."),
    )


@login_required
def org_delete(request, pk: int):
    org = selectors.org_get(actor=request.user, pk=pk)
    if not policy.org_policy.may_delete(request.user, org):
        raise PermissionDenied
    if request.method == "POST":
        parent_id = org.parent_id
        try:
            services.org_delete(actor=request.user, org=org)
        except errors.ServiceError as exc:
            messages.error(request, exc.message)
            return redirect(_detail_url(org.pk))
        messages.success(request, _("%(name)s was deleted.") % {"name": org.name})
        if parent_id and policy.orgs(request.user).filter(pk=parent_id).exists():
            return redirect(_detail_url(parent_id))
        return redirect("orgs:tree")
    return _confirm_page(
        request,
        title=_("Delete %(name)s") % {"name": org.name},
        message=_("Only an empty node can be deleted. This cannot be undone."),
        cancel=_detail_url(org.pk),
    )


# --- units ---------------------------------------------------------------------------------------


@login_required
def unit_list(request):
    """Units in scope with a search box; htmx swaps only the results."""
    if not policy.org_policy.anywhere(request.user, Perm.VIEW):
        raise Http404
    filters = selectors.UnitFilters.from_params(request.GET)
    page = Paginator(selectors.unit_list(actor=request.user, filters=filters), UNITS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filter_form": UnitFilterForm(request.GET or None, orgs=selectors.org_choices(actor=request.user)),
        "can_add": policy.org_policy.anywhere(request.user, Perm.CHANGE),
    }
    template = "orgs/unit_list.html#results" if request.htmx else "orgs/unit_list.html"
    return render(request, template, context)


@login_required
def unit_detail(request, pk: int):
    unit = selectors.unit_get(actor=request.user, pk=pk)
    context = {
        "unit": unit,
        "subunits": selectors.unit_detail_subunits(unit=unit),
        "can_edit": policy.unit_policy.may_change(request.user, unit),
    }
    return render(request, "orgs/unit_detail.html", context)


def _unit_form(request, *, initial: dict):
    return UnitForm(
        request.POST or None,
        initial=initial,
        orgs=selectors.org_choices(actor=request.user, perm=Perm.CHANGE),
        parents=selectors.unit_parent_choices(actor=request.user),
    )


@login_required
def unit_create(request):
    if not policy.org_policy.anywhere(request.user, Perm.CHANGE):
        raise PermissionDenied
    org_raw = request.GET.get("org", "")
    initial = {"org": int(org_raw)} if org_raw.isdigit() else {}
    if parent_raw := request.GET.get("parent", ""):
        initial["parent"] = int(parent_raw) if parent_raw.isdigit() else None
    form = _unit_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        unit = _on_form(form, services.unit_create, actor=request.user, **form.cleaned_data)
        if unit is not None:
            messages.success(request, _("%(name)s was added.") % {"name": unit.name})
            return redirect("orgs:unit_detail", pk=unit.pk)
    return _form_page(request, form=form, title=_("Add a unit"), cancel=reverse("orgs:unit_list"))


@login_required
def unit_edit(request, pk: int):
    unit = selectors.unit_get(actor=request.user, pk=pk)
    _need(request.user, Perm.CHANGE, unit.org)
    fields = ["org", "parent", "name", "kind", "credit_code", "address", "contact_name", "contact_phone"]
    form = _unit_form(request, initial={f: getattr(unit, f) for f in fields})
    if (
        request.method == "POST"
        and form.is_valid()
        and _on_form(form, services.unit_update, actor=request.user, unit=unit, **form.cleaned_data) is not None
    ):
        messages.success(request, _("Changes saved."))
        return redirect("orgs:unit_detail", pk=unit.pk)
    return _form_page(
        request,
        form=form,
        title=_("Edit %(name)s") % {"name": unit.name},
        cancel=reverse("orgs:unit_detail", args=[unit.pk]),
    )


# --- positions -----------------------------------------------------------------------------------


@login_required
def position_create(request, pk: int):
    org = selectors.org_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, org)
    form = PositionForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _on_form(form, services.position_create, actor=request.user, org=org, **form.cleaned_data) is not None
    ):
        messages.success(request, _("Position added."))
        return redirect(_detail_url(org.pk))
    return _form_page(
        request, form=form, title=_("Add a position at %(name)s") % {"name": org.name}, cancel=_detail_url(org.pk)
    )


@login_required
def position_edit(request, pk: int):
    position = selectors.position_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, position.org)
    form = PositionForm(
        request.POST or None, initial={f: getattr(position, f) for f in ("title", "person_name", "phone")}
    )
    if request.method == "POST" and form.is_valid():
        result = _on_form(form, services.position_update, actor=request.user, position=position, **form.cleaned_data)
        if result is not None:
            messages.success(request, _("Changes saved."))
            return redirect(_detail_url(position.org_id))
    return _form_page(request, form=form, title=_("Edit position"), cancel=_detail_url(position.org_id))


@login_required
def position_delete(request, pk: int):
    position = selectors.position_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, position.org)
    if request.method == "POST":
        services.position_delete(actor=request.user, position=position)
        messages.success(request, _("Position removed."))
        return redirect(_detail_url(position.org_id))
    return _confirm_page(
        request,
        title=_("Remove position"),
        message=str(position),
        cancel=_detail_url(position.org_id),
    )


# --- leading groups ------------------------------------------------------------------------------


@login_required
def leading_group_create(request, pk: int):
    org = selectors.org_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, org)
    form = LeadingGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = _on_form(form, services.leading_group_create, actor=request.user, org=org, **form.cleaned_data)
        if group is not None:
            messages.success(request, _("Leading group added; now add its members."))
            return redirect("orgs:leading_group_detail", pk=group.pk)
    return _form_page(
        request, form=form, title=_("Add a leading group at %(name)s") % {"name": org.name}, cancel=_detail_url(org.pk)
    )


def _group_page(request, group, member_form=None):
    can_manage = policy.leading_group_policy.may_change(request.user, group)
    context = {
        "group": group,
        "can_manage": can_manage,
        "member_form": member_form or (LeadingGroupMemberForm() if can_manage else None),
    }
    return render(request, "orgs/leading_group_detail.html", context)


@login_required
def leading_group_detail(request, pk: int):
    return _group_page(request, selectors.leading_group_get(actor=request.user, pk=pk))


@login_required
def leading_group_edit(request, pk: int):
    group = selectors.leading_group_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, group.org)
    form = LeadingGroupForm(request.POST or None, initial={"name": group.name})
    if (
        request.method == "POST"
        and form.is_valid()
        and _on_form(form, services.leading_group_update, actor=request.user, group=group, **form.cleaned_data)
    ):
        messages.success(request, _("Changes saved."))
        return redirect("orgs:leading_group_detail", pk=group.pk)
    cancel = reverse("orgs:leading_group_detail", args=[group.pk])
    return _form_page(request, form=form, title=_("Rename leading group"), cancel=cancel)


@login_required
def leading_group_delete(request, pk: int):
    group = selectors.leading_group_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, group.org)
    if request.method == "POST":
        services.leading_group_delete(actor=request.user, group=group)
        messages.success(request, _("%(name)s was deleted.") % {"name": group.name})
        return redirect(_detail_url(group.org_id))
    return _confirm_page(
        request,
        title=_("Delete %(name)s") % {"name": group.name},
        message=_("The group and its member list will be deleted."),
        cancel=reverse("orgs:leading_group_detail", args=[group.pk]),
    )


@login_required
def leading_group_member_add(request, pk: int):
    group = selectors.leading_group_get(actor=request.user, pk=pk)
    _need(request.user, Perm.MANAGE_ORG, group.org)
    if request.method != "POST":
        return redirect("orgs:leading_group_detail", pk=group.pk)
    form = LeadingGroupMemberForm(request.POST)
    if form.is_valid():
        member = _on_form(form, services.leading_group_member_add, actor=request.user, group=group, **form.cleaned_data)
        if member is not None:
            messages.success(request, _("%(name)s was added to the group.") % {"name": member.person_name})
            return redirect("orgs:leading_group_detail", pk=group.pk)
    response: HttpResponse = _group_page(request, group, member_form=form)
    response.status_code = 400
    return response


@login_required
def leading_group_member_remove(request, pk: int):
    member = selectors.leading_group_member_get(actor=request.user, pk=pk)
    group = member.group
    _need(request.user, Perm.MANAGE_ORG, group.org)
    if request.method == "POST":
        services.leading_group_member_remove(actor=request.user, member=member)
        messages.success(request, _("%(name)s was removed from the group.") % {"name": member.person_name})
        return redirect("orgs:leading_group_detail", pk=group.pk)
    return _confirm_page(
        request,
        title=_("Remove from %(group)s") % {"group": group.name},
        message=str(member),
        cancel=reverse("orgs:leading_group_detail", args=[group.pk]),
    )
