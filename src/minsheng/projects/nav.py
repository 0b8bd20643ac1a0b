"""实事项目 entries in the staff menu and the citizens' home tile (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(
    NavEntry(_("实事项目"), "projects:list", "projects.view", order=400),
    NavEntry(_("进度填报"), "projects:reports", "projects.report", order=410),
    NavEntry(_("督查台账"), "projects:ledger", "projects.export", order=420),
    NavEntry(_("实事项目统计"), "projects:dashboard", "projects.dashboard", order=430),
    NavEntry(_("领导一览"), "projects:overview", "projects.dashboard", order=440),
)
register_public(
    PublicEntry(_("我为群众办实事"), "projects:public", _("实事项目进展公开"), order=70),
)
