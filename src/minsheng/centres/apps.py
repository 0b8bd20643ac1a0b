from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentresConfig(AppConfig):
    name = "minsheng.centres"
    verbose_name = _("邻里中心")
