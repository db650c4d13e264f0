"""Log lines: one format everywhere, ids on every line, a quiet INFO."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from datetime import timedelta

import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.utils import timezone

from guessgame.game import services
from guessgame.game.models import Round
from guessgame.logs import logging_config
from inference.canvas import render_strokes
from tests.conftest import eventually
from tests.factories import drawing_of, first_round


class Captured:
    """The root logger configured as settings.LOGGING does, writing into a string."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.configure(json=False)

    def configure(self, *, json: bool) -> None:
        logging.config.dictConfig(logging_config(json=json, level="INFO"))
        logging.getLogger().handlers[0].setStream(self.stream)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
def log_lines():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield Captured()
    logging.config.dictConfig(settings.LOGGING)
    root.handlers, root.level = saved


def blank_png() -> bytes:
    return render_strokes([])


@pytest.mark.django_db
def test_every_line_of_a_request_carries_its_id_and_the_answer_says_it(client, log_lines):
    response = client.post(
        "/guess", {"image": io.BytesIO(blank_png())}, HTTP_X_REQUEST_ID="req-0123456789"
    )

    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-0123456789"
    guess_lines = [line for line in log_lines.lines() if "event=live_guess" in line]
    assert guess_lines == [guess_lines[0]] and guess_lines[0].endswith("request_id=req-0123456789")


@pytest.mark.django_db
def test_a_request_without_a_usable_id_gets_a_new_one(client):
    first = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    second = client.get("/")

    assert len(first["X-Request-ID"]) == 32 and "\n" not in first["X-Request-ID"]
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_production_lines_are_json_objects_with_the_ids(client, log_lines):
    log_lines.configure(json=True)
    client.post("/guess", {"image": io.BytesIO(blank_png())}, HTTP_X_REQUEST_ID="req-abcdefgh")

    records = [json.loads(line) for line in log_lines.lines()]
    guess = next(r for r in records if "event=live_guess" in r["message"])
    assert guess["level"] == "INFO" and guess["logger"] == "guessgame.game.api"
    assert guess["request_id"] == "req-abcdefgh" and guess["task_id"] == ""
    assert {"time", "message"} <= set(guess)


def test_every_line_of_a_task_carries_its_task_id(log_lines):
    from guessgame.game.tasks import predict_drawing

    task_prerun.send(sender=predict_drawing, task_id="task-42", task=predict_drawing)
    logging.getLogger("guessgame.game.tasks").info("event=inside")
    task_postrun.send(sender=predict_drawing, task_id="task-42", task=predict_drawing)
    logging.getLogger("guessgame.game.tasks").info("event=after")

    assert log_lines.lines()[0].endswith("event=inside task_id=task-42")
    assert log_lines.lines()[1].endswith("event=after")


def test_the_worker_uses_the_settings_logging_not_celerys_handlers():
    from guessgame.celery import app

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        app.log.already_setup = False
        app.log.setup_logging_subsystem(loglevel="DEBUG")
        assert len(root.handlers) == 1
        assert type(root.handlers[0].formatter).__name__ == "TextFormatter"
        assert root.level == logging.INFO  # LOG_LEVEL, not the worker's --loglevel
    finally:
        app.log.already_setup = True
        logging.config.dictConfig(settings.LOGGING)
        root.handlers, root.level = saved


def test_celerys_line_per_task_with_its_result_is_not_at_info():
    """ "Task ... succeeded in 0.001s: {'probabilities': [...]}" was 2 lines a guess."""
    assert logging.getLogger("celery.app.trace").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("celery.worker.strategy").getEffectiveLevel() == logging.WARNING


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_line_for_a_round_carries_the_task_id_and_the_request_id(
    worker_process, active_model, client, django_user_model
):
    player = django_user_model.objects.create_user("logan", password="pw-logs-1")
    client.force_login(player)
    game = services.game_start(player=player)
    round = first_round(game)
    _, strokes = drawing_of(round.target)
    drawn_for = timezone.now() - timedelta(seconds=5)  # as long as the drawing took, and more
    Round.objects.filter(pk=round.pk).update(started_at=drawn_for)
    response = client.post(
        f"/rounds/{round.pk}/submit",
        data=json.dumps({"strokes": strokes}),
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-round-000001",
    )
    assert response.status_code == 201, response.content
    eventually(lambda: Round.objects.get(pk=round.pk).scored, what="the worker scoring it")

    drawing = response.json()["drawing"]
    lines = worker_process.log_path.read_text().splitlines()
    recorded = [line for line in lines if f"event=prediction_recorded drawing={drawing} " in line]
    assert len(recorded) == 1
    assert "request_id=req-round-000001 task_id=" in recorded[0]
    assert not any("succeeded in" in line for line in lines)


def test_production_writes_json_lines_and_development_readable_ones(tmp_path):
    from tests.test_settings import manage

    probe = "import logging; logging.getLogger('guessgame.probe').warning('event=probe')"
    production = manage(
        "shell", "-c", probe, DJANGO_ENV="production", SECRET_KEY="k" * 60,
        GUESSGAME_VAR_DIR=str(tmp_path),
    )  # fmt: skip
    development = manage("shell", "-c", probe, GUESSGAME_VAR_DIR=str(tmp_path))

    line = json.loads(production.stderr.strip().splitlines()[-1])
    assert line["message"] == "event=probe" and line["logger"] == "guessgame.probe"
    assert development.stderr.strip().endswith("WARNING guessgame.probe event=probe")


def test_gunicorn_logs_in_the_shared_format():
    from tests.conftest import ROOT

    config: dict = {}
    exec((ROOT / "guessgame" / "gunicorn.conf.py").read_text(), config)
    handlers = config["logconfig_dict"]["handlers"]
    assert handlers["console"]["filters"] == ["context"]
    assert config["logconfig_dict"]["loggers"]["gunicorn.error"]["propagate"] is True
