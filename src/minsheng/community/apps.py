from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    """The leaders' overview of the community services; each service is its own app."""

    name = "minsheng.community"
    verbose_name = _("社区服务概览")

    def ready(self) -> None:
        from minsheng.community import nav  # noqa: F401 (the policy rule and the menu entry)
