from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "minsheng.relief"
    verbose_name = _("妇女儿童公益站")

    def ready(self) -> None:
        from minsheng.relief import (  # noqa: F401
            actions,  # the policy actions
            demo,  # the demo station with a year of donations and help
            nav,  # the public tile
        )
