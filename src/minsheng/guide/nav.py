"""The guide's tile on the citizens' home page and its entries in the staff menu."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register_public(
    PublicEntry(_("智能导服"), "guide:phone", _("说出要办的事，告诉您去哪个窗口、带什么"), order=35)
)
register(
    NavEntry(_("导服问题报告"), "guide:report", "guide.report", order=400),
    NavEntry(_("导服同义词"), "guide:synonyms", "guide.synonym_edit", order=410),
)
