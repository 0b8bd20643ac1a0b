import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
application = get_wsgi_application()

from minsheng.appeals.search import warm_up  # noqa: E402  (needs the apps loaded)

warm_up()
