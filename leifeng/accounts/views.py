"""Account pages: parse → authorize → one service or selector → render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.accounts import selectors, services
from leifeng.accounts.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    RoleGrantForm,
    TokenCreateForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from leifeng.accounts.policy import account_policy
from leifeng.core.errors import NotFound, ServiceError
from leifeng.core.forms import apply_errors

PER_PAGE = 50


def lockout(request, response=None, credentials=None):
    """django-axes lockout (AXES_LOCKOUT_CALLABLE): the API's error format under /api/, a page elsewhere."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    message = _("Too many failed logins. Try again in %(n)d minutes.") % {"n": minutes}
    if request.path.startswith("/api/"):
        body = {"error": {"code": "locked_out", "message": message, "fields": {}}}
        return JsonResponse(body, status=429, headers={"Retry-After": str(minutes * 60)})
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


# ---- my account ----------------------------------------------------------------------------


def _me_context(request, **extra) -> dict:
    ctx = {
        "roles": selectors.role_list_for_user(user=request.user),
        # active tokens first (at most MAX_ACTIVE_TOKENS), then the latest revoked ones for reference
        "tokens": list(selectors.token_list(actor=request.user)[: services.MAX_ACTIVE_TOKENS + 10]),
        "password_form": PasswordChangeForm(),
        "token_form": TokenCreateForm(),
    }
    ctx.update(extra)
    return ctx


@login_required
def me(request):
    return render(request, "accounts/me.html", _me_context(request))


@login_required
@require_POST
def me_password(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password has been changed."))
            return redirect("accounts:me")
    return render(request, "accounts/me.html", _me_context(request, password_form=form), status=400)


@login_required
@require_POST
def me_token_create(request):
    """The raw token appears in this one response only; it is not stored anywhere readable."""
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.token_create(actor=request.user, name=form.cleaned_data["name"])
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            response = render(request, "accounts/me.html", _me_context(request, new_token=raw, new_token_row=token))
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "accounts/me.html", _me_context(request, token_form=form), status=400)


@login_required
@require_POST
def me_token_revoke(request, pk: int):
    try:
        token = services.token_revoke(actor=request.user, token_id=pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:me")


# ---- accounts of my subtree ----------------------------------------------------------------


@login_required
def user_list(request):
    form = UserFilterForm(request.GET)
    form.is_valid()
    qs = selectors.user_list(actor=request.user, filters=selectors.UserFilters.from_params(form.cleaned_data))
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    template = "accounts/user_list.html#results" if request.htmx else "accounts/user_list.html"
    return render(request, template, {"page": page, "form": form})


@login_required
def user_create(request):
    if not account_policy.anywhere(request.user):
        raise Http404
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=request.user,
                username=form.cleaned_data["username"],
                display_name=form.cleaned_data["display_name"],
                phone=form.cleaned_data["phone"],
                password=form.cleaned_data["password"],
                role=form.cleaned_data["role"],
                org_id=int(form.cleaned_data["org"]),
            )
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Account “%(name)s” created.") % {"name": user.username})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_create.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request, user, status: int = 200, **forms):
    can_manage = account_policy.may_manage(request.user, user)
    ctx = {
        "account": user,
        "can_manage": can_manage,
        "is_self": user.pk == request.user.pk,
        "edit_form": forms.get("edit_form")
        or UserEditForm(initial={"display_name": user.display_name, "phone": user.phone, "email": user.email}),
        "grant_form": forms.get("grant_form") or RoleGrantForm(actor=request.user),
        "password_form": forms.get("password_form") or PasswordResetForm(),
        "role_error": forms.get("role_error"),
    }
    return render(request, "accounts/user_detail.html", ctx, status=status)


@login_required
def user_detail(request, pk: int):
    user = selectors.user_get(actor=request.user, user_id=pk)
    if request.method != "POST":
        return _detail(request, user)
    form = UserEditForm(request.POST)
    if form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:user_detail", pk=user.pk)
    return _detail(request, user, status=400, edit_form=form)


@login_required
@require_POST
def user_role_grant(request, pk: int):
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = RoleGrantForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            services.role_grant(
                actor=request.user, user=user, role=form.cleaned_data["role"], org_id=int(form.cleaned_data["org"])
            )
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Role granted."))
            return redirect("accounts:user_detail", pk=user.pk)
    return _detail(request, user, status=400, grant_form=form)


@login_required
@require_POST
def user_role_revoke(request, pk: int, role_id: int):
    user = selectors.user_get(actor=request.user, user_id=pk)
    try:
        services.role_revoke(actor=request.user, user=user, assignment_id=role_id)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        return _detail(request, user, status=exc.status, role_error=exc.message)
    messages.success(request, _("Role removed."))
    return redirect("accounts:user_detail", pk=user.pk)


@login_required
@require_POST
def user_set_active(request, pk: int):
    user = selectors.user_get(actor=request.user, user_id=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=user, active=active)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _detail(request, user, status=exc.status)
    messages.success(request, _("Account reactivated.") if active else _("Account deactivated."))
    return redirect("accounts:user_detail", pk=user.pk)


@login_required
@require_POST
def user_password_reset(request, pk: int):
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            services.user_reset_password(actor=request.user, user=user, password=form.cleaned_data["password"])
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("New password set. Tell it to the person in private."))
            return redirect("accounts:user_detail", pk=user.pk)
    return _detail(request, user, status=400, password_form=form)
