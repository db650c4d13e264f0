"""WSGI entry point (gunicorn guessgame.wsgi, and runserver through WSGI_APPLICATION).

Django is wrapped in BodySizeLimit: a request body over settings.REQUEST_MAX_BYTES is
refused before anything in Django reads it.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from guessgame.body_limit import BodySizeLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
django_application = get_wsgi_application()
application = BodySizeLimit(django_application, max_bytes=settings.REQUEST_MAX_BYTES)
