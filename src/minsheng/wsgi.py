import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402  (needs the apps loaded)

from minsheng.appeals.search import warm_up  # noqa: E402

warm_up()
# Import every view now (Django imports the URLconf at the first request otherwise): the
# views bring in scikit-learn and friends, seconds of CPU that gunicorn's --preload then
# spends once before forking instead of in the first request each worker serves.
get_resolver().url_patterns  # noqa: B018 (the property imports the modules)
