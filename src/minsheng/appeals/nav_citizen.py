"""The appeal tiles on the citizens' home page (registered from ``AppealsConfig.ready``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import PublicEntry, register_public

register_public(
    PublicEntry(_("我要反映"), "appeals:submit", _("反映问题、提出建议、投诉举报"), order=10),
    PublicEntry(_("查询进度"), "appeals:track", _("凭受理编号和查询码，或手机号查询"), order=20),
    PublicEntry(_("公开答复"), "appeals:public", _("看看政府部门是怎么答复的"), order=30),
)
