"""Practical-project actions and the roles that may take them (see ``core.policy``).

Department roles act only on projects their department leads or co-operates in
(``Project.scope_fields``); 销号 is applied for by the lead unit alone, which the actions
check on top of the policy.
"""

from minsheng.core.models.org import Role
from minsheng.core.policy import register

R = Role
DEPT = {R.HANDLER, R.DEPT_HEAD}
OVERSIGHT = {R.SUPERVISOR, R.LEADER, R.ADMIN}

register(
    {
        "projects.view": DEPT | OVERSIGHT,
        "projects.manage": {R.SUPERVISOR, R.ADMIN},
        "projects.report": DEPT,
        # Returning a report for correction: the supervisor's check of what units send.
        "projects.report.return": {R.SUPERVISOR},
        "projects.closeout.apply": {R.DEPT_HEAD},
        "projects.closeout.decide": {R.SUPERVISOR},
        "projects.escalate": {R.SUPERVISOR},
        "projects.publish": {R.SUPERVISOR, R.ADMIN},
        "projects.export": OVERSIGHT,
        "projects.dashboard": OVERSIGHT,
        # Contact persons' names and phones unmasked.
        "projects.contact": DEPT | {R.SUPERVISOR, R.ADMIN},
    }
)
