"""Citizens' appeal pages, mounted at /appeals/ in the "appeals" namespace."""

from django.urls import URLPattern, URLResolver, path

from minsheng.appeals.views import citizen, public

urlpatterns: list[URLPattern | URLResolver] = [
    path("new/", citizen.submit, name="submit"),
    path("new/done/", citizen.submitted, name="submitted"),
    path("new/villages/", citizen.villages, name="villages"),
    path("new/similar/", citizen.similar, name="similar"),
    path("track/", citizen.track, name="track"),
    path("track/<str:number>/", citizen.status, name="status"),
    path("lookup/", citizen.lookup_start, name="lookup"),
    path("lookup/code/", citizen.lookup_verify, name="lookup_verify"),
    path("lookup/end/", citizen.lookup_end, name="lookup_end"),
    path("rate/<str:token>/", citizen.rate, name="rate"),
    path("mine/", citizen.mine, name="mine"),
    path("public/", public.public_list, name="public"),
    path("public/<str:number>/", public.public_detail, name="public_detail"),
]
