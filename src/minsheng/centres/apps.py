from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentresConfig(AppConfig):
    name = "minsheng.centres"
    verbose_name = _("邻里中心")

    def ready(self) -> None:
        from minsheng.centres import (  # noqa: F401
            actions,  # the policy actions and the follow-up recompute
            demo,  # the demo's two batches of centres and three months of records
            nav,  # the menu entry and the public tile
        )
