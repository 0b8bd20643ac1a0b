from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "minsheng.appeals"
    label = "appeals"
    verbose_name = "群众诉求"

    def ready(self) -> None:
        from minsheng.appeals import (
            bench,  # noqa: F401  (registers the benchmarks)
            demo,  # noqa: F401  (the demo's year of appeals)
            nav_citizen,  # noqa: F401  (citizens' home tiles)
            nav_staff,  # noqa: F401  (staff menu)
            recompute,  # noqa: F401  (provisional deadlines after a holiday import)
            rules,  # noqa: F401  (registers actions)
            tasks,  # noqa: F401  (the periodic deadline sweep)
        )
