"""The relief station in the staff menu and on the citizens' home page (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(NavEntry(_("公益站"), "relief:staff", "relief.view", order=520))
register_public(
    PublicEntry(_("妇女儿童公益站"), "relief:public", _("善款收支和受助人数公开"), order=90)
)
