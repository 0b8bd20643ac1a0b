from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VenuesConfig(AppConfig):
    name = "minsheng.venues"
    verbose_name = _("校园场地开放")

    def ready(self) -> None:
        from minsheng.venues import (  # noqa: F401
            actions,  # the policy actions
            demo,  # the demo's schools, residents and a month of passages
            nav,  # the menu entry and the public tile
        )
