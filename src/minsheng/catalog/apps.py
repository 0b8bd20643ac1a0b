from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "minsheng.catalog"
    label = "catalog"
    verbose_name = "办事指南"

    def ready(self) -> None:
        from minsheng.catalog import (  # noqa: F401  (registrations happen on import)
            demo,
            nav_public,
            rules,
        )
