"""The overview in the staff menu, for those who look at the whole county (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core import policy
from minsheng.core.models.org import Role as R
from minsheng.core.navigation import NavEntry, register

policy.register({"community.overview": {R.SUPERVISOR, R.LEADER, R.ADMIN}})
register(NavEntry(_("社区服务概览"), "community:overview", "community.overview", order=500))
