"""The core actions and the roles that may take them (see ``core.policy``)."""

from minsheng.core.models.org import Role
from minsheng.core.policy import EVERY_ROLE, STAFF_ROLES, register

R = Role

register(
    {
        # The organisation chart (departments, divisions, halls, windows) is not personal.
        "org.view": STAFF_ROLES,
        "org.manage": {R.ADMIN},
        # Staff records carry personal data (mobile numbers): a department head sees their
        # own department's people; dispatchers, supervisors and leaders everyone's.
        "staff.view": {R.DEPT_HEAD, R.DISPATCHER, R.SUPERVISOR, R.LEADER, R.ADMIN},
        "staff.manage": {R.DEPT_HEAD, R.ADMIN},
        "holiday.view": STAFF_ROLES,
        "holiday.manage": {R.ADMIN},
        "audit.view": {R.SUPERVISOR, R.ADMIN},
        "outbox.view": {R.ADMIN},
        "outbox.retry": {R.ADMIN},
        "job.view": STAFF_ROLES,
        "notification.view": EVERY_ROLE,
        "api.token.manage": {R.ADMIN},
    }
)
