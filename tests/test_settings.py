"""Settings come from the environment; production mode is hardened."""

import secrets
import subprocess

import pytest

from tests.conftest import ROOT
from tests.manage import manage, shell


def test_check_deploy_is_silent_in_production_mode(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(64),
        GUESSGAME_VAR_DIR=str(tmp_path),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", DJANGO_ENV="production", GUESSGAME_VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "SECRET_KEY is required when DJANGO_ENV=production" in result.stderr


def test_local_mode_generates_a_secret_key_once_and_keeps_it(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = shell(code, GUESSGAME_VAR_DIR=str(tmp_path))
    second = shell(code, GUESSGAME_VAR_DIR=str(tmp_path))

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first.stdout.strip()


PRINT_DATABASE_AND_BROKER = (
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']);"
    "print(s.USES_EMBEDDED_REDIS, s.CELERY_BROKER_URL)"
)


def test_defaults_are_sqlite_under_var_and_the_embedded_redis(tmp_path):
    result = shell(
        PRINT_DATABASE_AND_BROKER, unset={"DATABASE_URL", "REDIS_URL"},
        GUESSGAME_VAR_DIR=str(tmp_path),
    )  # fmt: skip

    db_line, redis_line = result.stdout.strip().splitlines()
    assert db_line == f"django.db.backends.sqlite3 {tmp_path / 'db.sqlite3'}"
    assert redis_line == f"True redis+socket://{tmp_path / 'redis.sock'}"


def test_database_and_redis_urls_are_read_from_the_environment(tmp_path):
    result = shell(
        PRINT_DATABASE_AND_BROKER, GUESSGAME_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://u@db.example:5432/game", REDIS_URL="redis://cache.example:6379/2",
    )  # fmt: skip

    assert result.stdout.strip().splitlines() == [
        "django.db.backends.postgresql game",
        "False redis://cache.example:6379/2",
    ]


def test_the_api_rate_limit_comes_from_guessgame_api_rate(tmp_path, redis_url):
    client_ip = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    script = (
        "from django.conf import settings; from django.test import Client; "
        f"c = Client(REMOTE_ADDR='{client_ip}', HTTP_HOST='localhost'); "
        "codes = [c.post('/api/v1/predict', b'x', content_type='image/png').status_code "
        "for _ in range(3)]; print(settings.API_RATE, codes)"
    )
    # The limiter counts in the cache: this run's Redis (the embedded one's socket is
    # under the test's var dir, not tmp_path).
    limited = manage(
        "shell", "-c", script, GUESSGAME_API_RATE="2/h", GUESSGAME_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
    )  # fmt: skip
    unlimited = manage(
        "shell", "-c", script, GUESSGAME_API_RATE="off", GUESSGAME_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
    )  # fmt: skip

    # Not a PNG: 400 while within the limit, 429 once over it; never 429 with "off".
    assert limited.stdout.strip().splitlines()[-1] == "2/h [400, 400, 429]", limited.stderr
    assert unlimited.stdout.strip().splitlines()[-1] == "off [400, 400, 400]", unlimited.stderr


def mode(path) -> str:
    return oct(path.stat().st_mode & 0o777)


def test_make_serve_writes_its_secret_key_readable_by_its_owner_only(tmp_path):
    make = ["make", "-s", "secret-key", f"GUESSGAME_VAR_DIR={tmp_path}"]
    key = tmp_path / "secret_key"

    subprocess.run(make, cwd=ROOT, check=True, timeout=60, umask=0o022)
    first = key.read_text()
    key.chmod(0o644)  # as the older Makefile left it
    subprocess.run(make, cwd=ROOT, check=True, timeout=60, umask=0o022)

    assert mode(key) == "0o600"
    assert key.read_text() == first and len(first.strip()) >= 64


@pytest.mark.parametrize("existing", [False, True], ids=["new database", "older 0644 file"])
def test_the_sqlite_database_and_its_wal_files_are_readable_by_their_owner_only(tmp_path, existing):
    if existing:
        (tmp_path / "db.sqlite3").touch(mode=0o644)
        (tmp_path / "db.sqlite3").chmod(0o644)
    code = (
        "from django.db import connection; from pathlib import Path; "
        "cursor = connection.cursor(); cursor.execute('create table t (x)'); "
        "cursor.execute('insert into t values (1)'); "  # the -wal and -shm exist while open
        f"print(*(oct(Path('{tmp_path}/db.sqlite3' + end).stat().st_mode & 0o777) "
        "for end in ('', '-wal', '-shm')))"
    )
    result = shell(code, unset={"DATABASE_URL"}, umask=0o022, GUESSGAME_VAR_DIR=str(tmp_path))

    assert result.stdout.split() == ["0o600"] * 3, result.stderr
    assert mode(tmp_path / "secret_key") == "0o600"
