"""Guide actions and who may take them (see ``core.policy``).

Asking is public. The report of unanswered questions is for the people who look after the
catalogue and the service hall; adding synonyms changes every answer, so it is the admin's.
"""

from __future__ import annotations

from minsheng.core.models.org import Role
from minsheng.core.policy import register

R = Role

register(
    {
        "guide.report": {R.ADMIN, R.SUPERVISOR, R.WINDOW_STAFF},
        "guide.synonym_edit": {R.ADMIN},
    }
)
