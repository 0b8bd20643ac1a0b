from django.contrib.auth import views as auth_views
from django.urls import path

from minsheng.core.views import jobs, notifications, org, shell

app_name = "core"

urlpatterns = [
    path("", shell.home, name="home"),
    path("login/", shell.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", shell.PasswordChangeView.as_view(), name="password_change"),
    path("prefs/language/", shell.set_language, name="set_language"),
    path("prefs/large-font/", shell.set_large_font, name="set_large_font"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notifications_read_all",
    ),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    path("org/departments/", org.department_list, name="departments"),
    path("org/halls/", org.hall_list, name="halls"),
    path("org/divisions/", org.division_tree, name="divisions"),
    path("staff/", org.staff_list, name="staff"),
    path("staff/new/", org.staff_create, name="staff_create"),
    path("staff/<int:pk>/", org.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/mobile/", org.staff_mobile, name="staff_mobile"),
    path("staff/<int:pk>/edit/", org.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/active/", org.staff_active, name="staff_active"),
    path("staff/<int:pk>/password/", org.staff_password, name="staff_password"),
]
