"""Start-up imports: nothing a thread may need is left to be imported by two threads at once."""

import subprocess
import sys

from tests.conftest import ROOT

# Two threads start together, as in runserver (the reloader thread loads the URLconf while
# the other runs the system checks, which build the cache) and in a gthread worker's first
# requests. Without the imports in GameConfig.ready(), redis-py's import cycle made 37 of 40
# such runs fail here with "partially initialized module" or a deadlock error.
RACE = """
import os, threading, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guessgame.settings")
django.setup()
from django.core.cache import caches
from django.urls import get_resolver
errors, start = [], threading.Barrier(2)
def run(job):
    start.wait()
    try:
        job()
    except Exception as error:
        errors.append(repr(error))
jobs = (lambda: get_resolver().urlconf_module, lambda: caches["default"])
threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(errors or "ok")
"""


def test_redis_is_imported_at_setup_before_any_thread_starts():
    code = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'guessgame.settings')\n"
        "django.setup()\n"
        "print('redis' in sys.modules, 'django_redis.client.default' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_two_threads_loading_the_urls_and_the_cache_at_once_both_succeed():
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True)
        assert out.stdout.strip() == "ok", out.stdout + out.stderr[-2000:]
