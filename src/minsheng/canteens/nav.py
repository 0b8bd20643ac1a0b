"""The happiness canteens in the staff menu (from ``ready()``)."""

from django.utils.translation import gettext_lazy as _

from minsheng.core.navigation import NavEntry, register

register(NavEntry(_("幸福食堂"), "canteens:index", "canteen.view", order=510))
