from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelayConfig(AppConfig):
    name = "minsheng.relay"
    verbose_name = _("代办服务")

    def ready(self) -> None:
        from minsheng.relay import (  # noqa: F401
            actions,  # the policy actions
            demo,  # two months of cases across the towns
            nav,  # the menu entry and the public progress query
            sweep,  # the provisional-deadline recompute
            tasks,  # the periodic overdue sweep
        )
