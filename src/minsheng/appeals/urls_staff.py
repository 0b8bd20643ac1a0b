"""Staff appeal pages, mounted at /work/appeals/ in the "appeals" namespace."""

from django.urls import URLPattern, URLResolver, path

from minsheng.appeals.views import staff, staff_boards

urlpatterns: list[URLPattern | URLResolver] = [
    path("", staff.workbench, name="workbench"),
    path("bulk/", staff.bulk, name="bulk"),
    path("new/", staff.intake, name="intake"),
    path("dispatch/", staff_boards.dispatch_board, name="dispatch_board"),
    path("supervision/", staff_boards.supervision_board, name="supervision_board"),
    path("export/<slug:table>.<slug:fmt>", staff.export, name="export"),
    path("<int:pk>/", staff.detail, name="detail"),
    path("<int:pk>/contact/", staff.contact, name="contact"),
    path("<int:pk>/attachments/<int:attachment_pk>/", staff.attachment, name="attachment"),
    path("<int:pk>/do/<slug:name>/", staff.act, name="act"),
]
