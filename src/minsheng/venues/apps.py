from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VenuesConfig(AppConfig):
    name = "minsheng.venues"
    verbose_name = _("校园场地开放")

    def ready(self) -> None:
        from minsheng.venues import actions  # noqa: F401  (registers the policy actions)
