from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "guessgame.game"
    label = "game"
    verbose_name = "The game"

    def ready(self) -> None:
        # redis-py's package imports itself in a cycle, which breaks (ImportError from a
        # partially initialised module) when two threads import it for the first time at
        # once: runserver's reloader thread loads the URLconf while its other thread runs
        # the system checks, and gthread workers load lazily on their first requests. The
        # cache backend (django-redis) and the health view both need it, so import it
        # here, at setup, before any thread starts.
        import django_redis.client.default  # noqa: F401
        import redis  # noqa: F401
