"""The core's entries in the staff menu (registered from ``CoreConfig.ready``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, register

register(
    NavEntry(_("消息"), "core:notifications", "notification.view", order=10),
    NavEntry(_("工作人员"), "core:staff", "staff.view", order=800),
    NavEntry(_("部门"), "core:departments", "org.view", order=810),
    NavEntry(_("大厅与窗口"), "core:halls", "org.view", order=820),
    NavEntry(_("行政区划"), "core:divisions", "org.view", order=830),
    NavEntry(_("后台作业"), "core:jobs", "job.view", order=900),
)
