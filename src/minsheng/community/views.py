"""The leaders' overview of the community services: the county's figures of each service,
with charts drawn from the same numbers as the tables beside them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from minsheng.centres import figures as centre_figures
from minsheng.centres.models import Status
from minsheng.community import figures
from minsheng.core import policy
from minsheng.relay import figures as relay_figures


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    policy.require(request.user, "community.overview")
    canteens = figures.canteens()
    venues = figures.venues()
    relief = figures.relief()
    centres = centre_figures.county_figures()
    relay = relay_figures.county_figures()
    statuses = [(status.label, status.value) for status in Status]
    charts: dict[str, Any] = {
        "centres": {
            "labels": [line.label for line in centres.batches],
            "series": [
                {
                    "name": str(label),
                    "values": [getattr(line.progress, value) for line in centres.batches],
                }
                for label, value in statuses
            ],
        },
        "stages": {
            "name": _("代办件"),
            "labels": [str(label) for _state, label, _n in relay.states],
            "values": [n for _state, _label, n in relay.states],
        },
        "meals": {
            "name": _("就餐人次"),
            "labels": [f"{day:%m-%d}" for day, _n in canteens.daily],
            "values": [n for _day, n in canteens.daily],
        },
        "hours": {
            "name": _("入场人次"),
            "labels": [f"{h}:00" for h in range(24)],
            "values": venues.by_hour,
        },
        "relief": {
            "labels": [str(y.year) for y in reversed(relief.years)],
            "names": [_("收入（元）"), _("支出（元）")],
            "money_in": [float(y.money_in) for y in reversed(relief.years)],
            "money_out": [float(y.money_out) for y in reversed(relief.years)],
        },
    }
    return render(
        request,
        "community/overview.html",
        {
            "centres": centres,
            "relay": relay,
            "canteens": canteens,
            "venues": venues,
            "relief": relief,
            "charts": charts,
        },
    )
