from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minsheng.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from minsheng.core import checks, rules  # noqa: F401  (register checks and actions)
        from minsheng.core import calendar  # noqa: F401  (HolidayDay signals clear its cache)
        from minsheng.core import nav  # noqa: F401  (register the core staff menu entries)
        from minsheng.core import tasks  # noqa: F401  (register the core's periodic jobs)
