"""The volunteers' pages (namespace "volunteer"), mounted at the site root."""

from django.urls import path

from . import volunteer_views as views

app_name = "volunteer"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("children/<int:child_id>/", views.child_detail, name="child"),
    path("log/", views.log_new, name="log_new"),
    path("logs/", views.logs, name="logs"),
    path("logs/<int:log_id>/edit/", views.log_edit, name="log_edit"),
    path("logs/<int:log_id>/withdraw/", views.log_withdraw, name="log_withdraw"),
]
