from django.contrib.auth import views as auth_views
from django.urls import path

from wuye.core import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("project/switch/", views.project_switch, name="project_switch"),
    path("audit/", views.audit_log, name="audit_log"),
]
