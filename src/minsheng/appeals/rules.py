"""Appeal actions and the roles that may take them (see ``core.policy``)."""

from minsheng.core.models.org import Role
from minsheng.core.policy import STAFF_ROLES, register

R = Role
DEPT = {R.HANDLER, R.DEPT_HEAD}

register(
    {
        # Reading: department roles see their own department's appeals (scope_fields).
        "appeal.view": {R.HANDLER, R.DEPT_HEAD, R.DISPATCHER, R.SUPERVISOR, R.LEADER, R.ADMIN},
        "appeal.view_personal": {R.HANDLER, R.DEPT_HEAD, R.DISPATCHER, R.SUPERVISOR},
        "appeal.intake": {R.DISPATCHER, R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        "appeal.dispatch": {R.DISPATCHER},
        "appeal.refuse": {R.DISPATCHER},
        "appeal.sign": DEPT,
        "appeal.return": DEPT,
        "appeal.dispute_return": {R.DISPATCHER},
        "appeal.note": DEPT | {R.DISPATCHER},
        "appeal.request_extension": DEPT,
        "appeal.decide_extension": {R.DISPATCHER, R.SUPERVISOR},
        "appeal.reply": DEPT,
        "appeal.callback": {R.DISPATCHER},
        "appeal.merge": {R.DISPATCHER},
        "appeal.promote": {R.DEPT_HEAD, R.DISPATCHER, R.SUPERVISOR},
        "appeal.supervise": {R.SUPERVISOR},
        "appeal.kpi": STAFF_ROLES - {R.WINDOW_STAFF},
        "appeal.configure": {R.ADMIN},
    }
)
