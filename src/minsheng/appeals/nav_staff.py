"""The appeals' entries in the staff menu (imported from ``AppealsConfig.ready``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, register

register(
    NavEntry(_("诉求工作台"), "appeals:workbench", "appeal.view", order=100),
    NavEntry(_("诉求登记"), "appeals:intake", "appeal.intake", order=110),
    NavEntry(_("派单台"), "appeals:dispatch_board", "appeal.dispatch", order=120),
    NavEntry(_("超期督办"), "appeals:supervision_board", "appeal.view", order=130),
    NavEntry(_("诉求统计"), "appeals:kpi", "appeal.kpi", order=140),
)
