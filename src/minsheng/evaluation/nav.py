"""好差评 entries in the staff menu and the citizens' home tiles (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, PublicEntry, register, register_public

register(
    NavEntry(_("我的窗口"), "evaluation:window", "evaluation.event.create", order=300),
    NavEntry(_("差评整改"), "evaluation:cases", "evaluation.case.view", order=310),
    NavEntry(_("差评申诉"), "evaluation:appeals", "evaluation.appeal.decide", order=320),
    NavEntry(_("12345电话评价"), "evaluation:hotline", "evaluation.hotline", order=330),
    NavEntry(_("好差评统计"), "evaluation:stats", "evaluation.stats", order=340),
)
register_public(
    PublicEntry(_("好差评公示"), "evaluation:public", _("各部门政务服务评价情况"), order=60),
)
