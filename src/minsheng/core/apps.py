from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minsheng.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from minsheng.core import (  # noqa: F401  (register checks and actions)
            calendar,
            checks,
            nav,
            rules,
            tasks,
        )
