from django.contrib.auth import views as auth_views
from django.urls import path

from leifeng.accounts import views
from leifeng.accounts.forms import LoginForm

app_name = "accounts"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    path("me/password/", views.me_password, name="me_password"),
    path("me/tokens/", views.me_token_create, name="me_token_create"),
    path("me/tokens/<int:pk>/revoke/", views.me_token_revoke, name="me_token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.user_role_grant, name="user_role_grant"),
    path("users/<int:pk>/roles/<int:role_id>/revoke/", views.user_role_revoke, name="user_role_revoke"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", views.user_password_reset, name="user_password_reset"),
]
