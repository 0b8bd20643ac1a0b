"""Open school venues in the staff menu and on the citizens' home page (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(NavEntry(_("校园场地开放"), "venues:staff", "venue.view", order=500))
register_public(
    PublicEntry(_("校园运动场开放"), "venues:public", _("开放时间、闭馆通知和现场人数"), order=80)
)
