from minsheng.core.models.audit import AuditEvent, AuditHead
from minsheng.core.models.calendar import HolidayDay
from minsheng.core.models.jobs import JobLock, LongJob
from minsheng.core.models.org import Department, Division, Hall, Role, User, Window
from minsheng.core.models.outbox import Notification, OutboxMessage
from minsheng.core.models.settings_row import SettingsRow
from minsheng.core.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Department",
    "Division",
    "Hall",
    "HolidayDay",
    "JobLock",
    "LongJob",
    "Notification",
    "OutboxMessage",
    "Role",
    "SettingsRow",
    "User",
    "Window",
]
