from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuideConfig(AppConfig):
    name = "minsheng.guide"
    label = "guide"
    verbose_name = _("智能导服")

    def ready(self) -> None:
        from minsheng.guide import (
            bench,  # noqa: F401  (registers the benchmark)
            index,  # noqa: F401  (invalidates the cached index when matters change)
            nav,  # noqa: F401  (public tile and staff menu)
            rules,  # noqa: F401  (registers actions)
        )
