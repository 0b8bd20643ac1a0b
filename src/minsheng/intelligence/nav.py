"""The hot-issues page: its policy action and its staff menu entry.

Imported from ``IntelligenceConfig.ready`` and by ``views`` (so that the action exists
whenever the page can be reached).
"""

from django.utils.translation import gettext_lazy as _

from minsheng.core.models.org import Role
from minsheng.core.navigation import NavEntry, register
from minsheng.core.policy import register as register_rules

# Those who look across the whole county: dispatchers see the flow, supervisors and
# leaders what to act on. Department roles see their own appeals on the workbench.
register_rules({"intelligence.hot": {Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER}})

register(NavEntry(_("热点问题"), "intelligence:hot", "intelligence.hot", order=150))
