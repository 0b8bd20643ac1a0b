"""Django admin for the core: one module per topic."""

from minsheng.core.admin import audit, calendar, jobs, org, outbox  # noqa: F401
