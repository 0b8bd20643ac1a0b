"""The proxy service in the staff menu and its progress query on the citizens' home page
(from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(NavEntry(_("代办帮办"), "relay:index", "relay.view", order=540))
register_public(
    PublicEntry(
        _("代办进度查询"), "relay:public", _("村（社区）代办员代办事项的办理进度"), order=96
    )
)
