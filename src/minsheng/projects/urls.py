"""实事项目 pages: staff ones under /work/projects/ (the public ones join here as well)."""

from django.urls import URLPattern, URLResolver, include, path

from minsheng.projects.views import closeout, ledger, plans, reports, staff

app_name = "projects"

urlpatterns: list[URLPattern | URLResolver] = [
    path("work/projects/", staff.project_list, name="list"),
    path("work/projects/new/", staff.create, name="create"),
    path("work/projects/reports/", reports.reports, name="reports"),
    path("work/projects/ledger/", ledger.ledger, name="ledger"),
    path("work/projects/ledger/export.xlsx", ledger.export, name="ledger_export"),
    path("work/projects/plans/import/", plans.plan_import, name="plan_import"),
    path("work/projects/plans/template.xlsx", plans.plan_template, name="plan_template"),
    path("work/projects/plans/sample.xlsx", plans.plan_sample, name="plan_sample"),
    path("work/projects/plans/export.xlsx", plans.plan_export, name="plan_export"),
    path("work/projects/<int:pk>/", staff.detail, name="detail"),
    path("work/projects/<int:pk>/edit/", staff.edit, name="edit"),
    path("work/projects/<int:pk>/start/", staff.start, name="start"),
    path("work/projects/<int:pk>/contact/", staff.contact, name="contact"),
    path("work/projects/<int:pk>/report/", reports.report, name="report"),
    path(
        "work/projects/<int:pk>/reports/<int:report_pk>/return/",
        staff.return_report,
        name="return_report",
    ),
    path(
        "work/projects/<int:pk>/files/report/<int:file_pk>/", staff.report_file, name="report_file"
    ),
    path(
        "work/projects/<int:pk>/files/closeout/<int:file_pk>/",
        staff.closeout_file,
        name="closeout_file",
    ),
    path("work/projects/<int:pk>/escalate/", ledger.escalate, name="escalate"),
    path("work/projects/<int:pk>/closeout/", closeout.closeout, name="closeout"),
    path("work/projects/escalations/<int:pk>/interview/", ledger.interview, name="interview"),
    path("work/projects/escalations/<int:pk>/resolve/", ledger.resolve, name="resolve"),
    path(
        "work/projects/escalations/<int:pk>/document.pdf",
        ledger.escalation_pdf,
        name="escalation_pdf",
    ),
    # The public pages and the leaders' statistics (proj-public's views).
    path("", include("minsheng.projects.urls_public")),
]
