"""好差评 actions and the roles that may take them (see ``core.policy``)."""

from minsheng.core.models.org import Role
from minsheng.core.policy import STAFF_ROLES, register

R = Role
DEPT = {R.HANDLER, R.DEPT_HEAD}

register(
    {
        # Service events: window staff record their own; business systems through the API.
        "evaluation.event.create": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        "evaluation.event.view": STAFF_ROLES,
        # Binding a window's tablet (评价器) to it.
        "evaluation.pad.bind": {R.WINDOW_STAFF, R.DEPT_HEAD, R.ADMIN},
        # 12345 operators record a rating given by phone.
        "evaluation.hotline": {R.DISPATCHER, R.ADMIN},
        # Ratings and 差评 cases: department roles see their own department's.
        "evaluation.rating.view": STAFF_ROLES,
        "evaluation.case.view": DEPT | {R.SUPERVISOR, R.LEADER, R.ADMIN},
        "evaluation.case.verify": DEPT | {R.SUPERVISOR},
        "evaluation.case.classify": {R.DEPT_HEAD, R.SUPERVISOR},
        "evaluation.case.rectify": DEPT,
        "evaluation.case.feedback": DEPT | {R.SUPERVISOR},
        "evaluation.case.review": {R.SUPERVISOR},
        # Staff appeal (申诉) a rating of their own; the supervisor decides.
        "evaluation.appeal.file": {R.WINDOW_STAFF, R.HANDLER},
        "evaluation.appeal.decide": {R.SUPERVISOR},
        "evaluation.stats": STAFF_ROLES - {R.WINDOW_STAFF},
        "evaluation.configure": {R.ADMIN},
    }
)
