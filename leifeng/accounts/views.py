from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from leifeng.accounts import selectors


@login_required
def me(request):
    return render(request, "accounts/me.html", {"roles": selectors.role_list_for_user(user=request.user)})


@login_required
def user_list(request):
    page = selectors.user_page(actor=request.user, params=request.GET)
    return render(request, "accounts/user_list.html", {"page": page, "q": request.GET})
