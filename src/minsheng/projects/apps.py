from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "minsheng.projects"
    label = "projects"
    verbose_name = "实事项目"

    def ready(self) -> None:
        from minsheng.projects import (
            demo,  # noqa: F401  (the demo's two batches of projects)
            nav,  # noqa: F401  (staff menu entries and the public tile)
            rules,  # noqa: F401  (registers actions)
            tasks,  # noqa: F401  (the hourly ledger sweep)
        )
