from django.urls import path

from minsheng.core.views import shell

app_name = "core"

urlpatterns = [
    path("", shell.home, name="home"),
    path("login/", shell.LoginView.as_view(), name="login"),
    path("logout/", shell.LogoutView.as_view(), name="logout"),
    path("password/", shell.PasswordChangeView.as_view(), name="password_change"),
]
