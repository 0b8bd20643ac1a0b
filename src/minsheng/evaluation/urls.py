"""好差评 pages: public ones under /evaluation/, staff ones under /work/evaluation/."""

from django.urls import path

from minsheng.evaluation.views import pad, public, staff
from minsheng.evaluation.views import stats as stats_views

app_name = "evaluation"

urlpatterns = [
    # The window's tablet and its endpoints (device token).
    path("evaluation/pad/<int:window_id>/", pad.page, name="pad"),
    path("evaluation/pad/<int:window_id>/state", pad.state, name="pad_state"),
    path("evaluation/pad/<int:window_id>/rate", pad.rate, name="pad_rate"),
    # Back-to-back kiosk, the phone page, the public statistics.
    path("evaluation/kiosk/", public.kiosk_home, name="kiosk"),
    path("evaluation/kiosk/window/<int:window_id>/", public.kiosk_window, name="kiosk_window"),
    path("evaluation/kiosk/staff/<int:staff_id>/", public.kiosk_rate, name="kiosk_rate"),
    path("evaluation/r/<str:token>/", public.link_rate, name="rate"),
    path("evaluation/public/", public.public_stats, name="public"),
    # Staff.
    path("work/evaluation/window/", staff.window, name="window"),
    path("work/evaluation/window/start/", staff.start, name="start"),
    path("work/evaluation/window/pad/", staff.bind_pad, name="bind_pad"),
    path("work/evaluation/events/<int:pk>/finish/", staff.finish, name="finish"),
    path("work/evaluation/events/<int:pk>/receipt/", staff.receipt, name="receipt"),
    path("work/evaluation/ratings/<int:rating_id>/appeal/", staff.file_appeal, name="file_appeal"),
    path("work/evaluation/cases/", staff.cases, name="cases"),
    path("work/evaluation/cases/<int:pk>/", staff.case, name="case"),
    path("work/evaluation/cases/<int:pk>/do/<slug:name>/", staff.case_act, name="case_act"),
    path("work/evaluation/appeals/", staff.appeals, name="appeals"),
    path("work/evaluation/appeals/<int:pk>/decide/", staff.decide, name="decide"),
    path("work/evaluation/hotline/", staff.hotline, name="hotline"),
    path("work/evaluation/stats/", stats_views.dashboard, name="stats"),
    path("work/evaluation/stats/rankings/", stats_views.rankings, name="rankings"),
    path("work/evaluation/stats/export.xlsx", stats_views.export, name="export"),
]
