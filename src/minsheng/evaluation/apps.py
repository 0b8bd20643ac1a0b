from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "minsheng.evaluation"
    label = "evaluation"
    verbose_name = "好差评"

    def ready(self) -> None:
        from minsheng.evaluation import (
            bench,  # noqa: F401  (registers the benchmarks)
            demo,  # noqa: F401  (the demo's year of service events)
            nav,  # noqa: F401  (staff menu and citizens' tile)
            rules,  # noqa: F401  (registers actions)
            tasks,  # noqa: F401  (default ratings, rollup)
        )
