"""The 办事指南 tile on the citizens' home page."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import PublicEntry, register_public

register_public(
    PublicEntry(_("办事指南"), "catalog:list", _("办什么事、带什么材料、去哪个窗口"), order=40)
)
