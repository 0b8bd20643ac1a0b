"""The neighbourhood centres in the staff menu and on the citizens' home page (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(NavEntry(_("邻里中心"), "centres:index", "centre.view", order=530))
register_public(
    PublicEntry(_("邻里中心"), "centres:public", _("各村邻里中心的建设进度和服务情况"), order=95)
)
