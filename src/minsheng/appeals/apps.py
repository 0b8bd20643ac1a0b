from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "minsheng.appeals"
    label = "appeals"
    verbose_name = "群众诉求"

    def ready(self) -> None:
        from minsheng.appeals import rules  # noqa: F401  (registers actions)
