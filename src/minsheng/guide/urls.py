"""Guide pages: public under /guide/, staff under /work/guide/."""

from django.urls import path

from minsheng.guide import views

app_name = "guide"

urlpatterns = [
    path("guide/", views.phone, name="phone"),
    path("guide/kiosk/", views.kiosk, name="kiosk"),
    path("guide/ask/", views.ask, name="ask"),
    path("guide/m/<str:code>/", views.show, name="show"),
    path("guide/feedback/", views.feedback, name="feedback"),
    path("work/guide/report/", views.report, name="report"),
    path("work/guide/synonyms/", views.synonyms, name="synonyms"),
    path("work/guide/synonyms/<int:pk>/toggle/", views.synonym_toggle, name="synonym_toggle"),
]
