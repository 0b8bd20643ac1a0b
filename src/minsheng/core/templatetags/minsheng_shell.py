"""``{% load minsheng_shell %}``: helpers for the layouts.

``{% vendor_script "htmx.min.js" %}`` writes the script tag for a library copied from npm
by ``scripts/vendor_static.py``, or nothing when it has not been copied (tests, a checkout
before ``make``): pages still render and work as plain forms and links.
"""

from __future__ import annotations

from django import template
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.utils.html import format_html

register = template.Library()

VENDOR_DIR = "vendor/"


@register.simple_tag
def vendor_script(name: str) -> str:
    path = VENDOR_DIR + name
    try:
        # The manifest storage (production) raises for a file collectstatic did not see.
        url = staticfiles_storage.url(path)
    except ValueError:
        return ""
    if not staticfiles_storage.exists(path) and not finders.find(path):
        return ""
    return format_html('<script src="{}" defer></script>', url)
