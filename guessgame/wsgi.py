"""WSGI entry point (gunicorn guessgame.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
application = get_wsgi_application()
