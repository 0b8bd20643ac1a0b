from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "minsheng.intelligence"
    label = "intelligence"
    verbose_name = _("诉求智能")

    def ready(self) -> None:
        from minsheng.intelligence import (
            actions,  # noqa: F401  (registers the classifier's rights)
            bench,  # noqa: F401  (registers the classifier benchmark)
            demo,  # noqa: F401  (trains the demo's first model)
            nav,  # noqa: F401  (the hot-issues page's right and menu entry)
        )
