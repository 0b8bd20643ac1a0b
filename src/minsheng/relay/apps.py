from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelayConfig(AppConfig):
    name = "minsheng.relay"
    verbose_name = _("代办服务")
