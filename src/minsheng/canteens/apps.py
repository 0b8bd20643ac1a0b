from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteensConfig(AppConfig):
    name = "minsheng.canteens"
    verbose_name = _("幸福食堂")

    def ready(self) -> None:
        from minsheng.canteens import (  # noqa: F401
            actions,  # the policy actions
            demo,  # the demo's canteens, diners and a month of meals
            nav,  # the menu entry
        )
