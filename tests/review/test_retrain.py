"""manage.py retrain: which drawings train and which judge, the command's manners, the loop.

The loop test is slow (TensorFlow) and needs a real worker: drawings in the database ->
staff review -> export -> retrain on a tiny budget -> a new version is recorded,
activated by the rule, and the worker predicts with it.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from guessgame.game.models import Drawing
from guessgame.review import gate, retrain, services
from inference.models import ModelActivation, ModelVersion
from tests.conftest import eventually
from tests.factories import DrawingFactory, StaffFactory, UserFactory, switch_to


def players(n: int, *, held_out: bool):
    """``n`` players on one side of the fixed hold-out."""
    made = []
    while len(made) < n:
        user = UserFactory()
        if gate.is_holdout_player(user.pk) == held_out:
            made.append(user)
    return made


def test_the_documented_rule_names_every_set_it_checks():
    from guessgame.review.management.commands.retrain import Command

    for text in (retrain.ACTIVATION_RULE_TEXT, Command.help):
        for name in ("canvas benchmark", "MNIST test", "players' hold-out", "non-digits"):
            assert name in text, name


@pytest.mark.parametrize(
    "n, repeats", [(0, 0), (1, retrain.MAX_REPEATS), (300, 10), (3000, 1), (9000, 1)]
)
def test_a_few_players_drawings_are_repeated_to_count(n, repeats):
    assert retrain.player_repeats(n) == repeats


@pytest.mark.django_db
def test_held_out_players_are_never_trained_on_and_stay_held_out(staff):
    trainers, judges = players(4, held_out=False), players(2, held_out=True)
    for player in trainers + judges:
        services.review_approve(
            drawings=DrawingFactory.create_batch(3, player=player), reviewer=staff
        )

    plan, training, holdout = retrain.plan_data()

    assert set(training.values_list("player_id", flat=True)) == {p.pk for p in trainers}
    assert set(holdout.values_list("player_id", flat=True)) == {p.pk for p in judges}
    assert (plan.training, plan.holdout, plan.holdout_players) == (12, 6, 2)
    # More players and drawings later: nobody moves from one side to the other.
    for player in players(5, held_out=False) + judges:
        DrawingFactory.create_batch(2, player=player)
    _, training, holdout = retrain.plan_data(policy="all")
    assert not set(training.values_list("player_id", flat=True)) & {p.pk for p in judges}
    assert {p.pk for p in judges} == set(holdout.values_list("player_id", flat=True))


@pytest.mark.django_db
def test_training_data_is_trusted_by_default_and_the_flags_widen_or_narrow_it(staff):
    [player] = players(1, held_out=False)
    approved = DrawingFactory(player=player, wrong=True)
    services.review_approve(drawings=[approved], reviewer=staff)
    agreed = DrawingFactory(player=player, confidence=0.97)
    DrawingFactory(player=player, confidence=0.7)  # the model hesitated: waits for review
    DrawingFactory(player=player, wrong=True, confidence=1.0)  # it saw another digit
    DrawingFactory(player=player, label=4, not_a_digit=True)  # it saw no digit

    trusted, training, _ = retrain.plan_data()
    assert set(training) == {approved, agreed}
    assert (trusted.training, trusted.reviewed, trusted.agreed, trusted.waiting) == (2, 1, 1, 3)
    assert retrain.plan_data(policy="reviewed")[0].training == 1
    assert retrain.plan_data(policy="all")[0].training == 5
    assert retrain.plan_data(min_confidence=0.6)[0].training == 3


@pytest.mark.django_db
def test_a_dry_run_reports_the_data_and_trains_nothing(settings, tmp_path, staff):
    settings.MODEL_DIR = tmp_path / "models"
    [trainer], [judge] = players(1, held_out=False), players(1, held_out=True)
    drawings = DrawingFactory.create_batch(12, player=trainer, confidence=0.95)
    services.review_reject(drawings=drawings[:2], reviewer=staff)
    DrawingFactory.create_batch(3, player=trainer, confidence=0.5)
    DrawingFactory.create_batch(6, player=judge)
    out = StringIO()

    call_command("retrain", "--dry-run", stdout=out, stderr=StringIO())

    text = out.getvalue()
    assert "--data trusted" in text and "confidence >= 0.9" in text
    assert "10 drawings from 1 players (0 reviewed, 10 unreviewed" in text
    assert "3 wait for review" in text
    assert "Players' hold-out (never trained on): 6 drawings from 1 players" in text
    assert "would train" in text and "on 10 players' drawings" in text
    assert not (tmp_path / "models").exists()
    assert not ModelVersion.objects.filter(name__startswith="retrain-").exists()


@pytest.mark.django_db
def test_retrain_with_nothing_to_train_on_says_so_and_fails(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    [player] = players(1, held_out=False)
    DrawingFactory.create_batch(3, player=player, confidence=0.5)

    with pytest.raises(CommandError, match="No players' drawings to train on") as raised:
        call_command("retrain", "--limit", "10", stdout=StringIO(), stderr=StringIO())

    assert "3 wait for review" in str(raised.value)
    assert not (tmp_path / "models").exists()


@pytest.mark.django_db
def test_ctrl_c_stops_cleanly_and_removes_the_unfinished_version(settings, tmp_path, staff):
    settings.MODEL_DIR = tmp_path / "models"
    [player] = players(1, held_out=False)
    services.review_approve(drawings=DrawingFactory.create_batch(5, player=player), reviewer=staff)

    def interrupted(model_name, *, out_dir, **kwargs):
        (out_dir / "model.keras").write_bytes(b"half a model")
        raise KeyboardInterrupt

    with mock.patch("training.train.run", side_effect=interrupted):
        with pytest.raises(CommandError, match="Interrupted") as raised:
            call_command(
                "retrain", "--name", "retrain-x", "--limit", "10",
                stdout=StringIO(), stderr=StringIO(),
            )  # fmt: skip

    assert raised.value.returncode == 130
    assert not (tmp_path / "models" / "retrain-x").exists()
    assert not ModelVersion.objects.filter(name="retrain-x").exists()


@pytest.mark.django_db
def test_activate_always_overrides_the_gate_only_with_a_reason():
    with pytest.raises(CommandError, match="--reason"):
        call_command("retrain", "--activate", "always", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [(["--epochs", "0"], "at least 1"), (["--limit", "many"], "not a whole number")],
)
def test_bad_options_are_refused_with_a_sentence(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("retrain", "--dry-run", *args, stdout=StringIO(), stderr=StringIO())


@pytest.fixture
def shipped_active_model(db):
    """The shipped default model, active as migrate leaves it: the fine-tune starts from it."""
    from django.conf import settings

    from inference.registry import register_model_dir

    version = register_model_dir(Path(settings.SHIPPED_MODEL_DIR))
    if not version.is_active:
        version.activate()
    return version


@pytest.mark.training
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_reviewed_drawings_fine_tune_a_version_the_gate_accepts_and_the_worker_answers_with(
    worker_process, shipped_active_model, settings, tmp_path
):
    from guessgame.game.services import queue_prediction

    settings.MODEL_DIR = tmp_path / "models"
    staff = StaffFactory()
    trainers, judges = players(4, held_out=False), players(5, held_out=True)
    drawings = [DrawingFactory(label=i % 10, player=trainers[i % 4]) for i in range(40)]
    for i in range(50):  # the players' hold-out: enough drawings and players to judge
        DrawingFactory(label=i % 10, player=judges[i // 10])
    mislabelled = DrawingFactory(
        label=3, drawn_digit=8, predicted_digit=8, confidence=0.6, player=trainers[0]
    )
    scribble = DrawingFactory(label=5, wrong=True, player=trainers[1])
    services.review_approve(drawings=drawings, reviewer=staff)
    services.review_relabel(drawings=[mislabelled], label=8, reviewer=staff)
    services.review_reject(drawings=[scribble], reviewer=staff)
    out = StringIO()

    call_command(
        "retrain",
        "--limit", "300", "--epochs", "1", "--name", "retrain-test",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip

    version = ModelVersion.objects.get(name="retrain-test")
    report = version.metrics["retrain"]
    assert report["players_trained_on"] == 41, "the rejected scribble is never exported"
    assert report["players_per_label"]["8"] == 5, "the relabelled drawing counts as an 8"
    assert report["holdout_size"] == 50
    assert report["active_version"] == shipped_active_model.name
    assert report["fine_tuned_from"] == shipped_active_model.name
    assert version.metrics["dataset_sizes"]["sources"]["players"] == 41 * report["player_repeats"]
    gate_record = version.metrics["gate"]
    sets = {c["set"]: c for c in gate_record["comparisons"]}
    assert sets["players' hold-out"]["size"] == 50 and sets["players' hold-out"]["players"] == 5
    assert sets["canvas benchmark"]["size"] == sets["MNIST test"]["size"] == 300
    for plot in ("training_curves.png", "confusion_matrix.png", "retrain_comparison.png"):
        assert (version.directory / plot).exists(), plot
    with np.load(version.directory / "data" / "train" / "drawings.npz") as archive:
        assert scribble.pk not in archive["ids"]
        assert not set(archive["player_ids"]) & {p.pk for p in judges}
    # Not worse than the active model anywhere, with enough evidence: the gate accepts,
    # auto activates it with no staff click, and records the switch.
    assert gate_record["verdict"] == "accept", gate_record["reason"]
    assert version.passed_gate
    assert ModelVersion.active() == version
    assert switch_to(version)[:3] == (ModelActivation.Kind.RETRAIN, shipped_active_model, None)
    assert "(active)" in out.getvalue() and "Gate: accept" in out.getvalue()

    fresh = DrawingFactory(
        label=7,
        prediction_status=Drawing.Prediction.PENDING,
        predicted_digit=None,
        confidence=None,
    )
    queue_prediction(fresh.pk)

    pending = Drawing.objects.filter(pk=fresh.pk, prediction_status=Drawing.Prediction.PENDING)
    eventually(lambda: not pending.exists(), what="the new version's prediction", seconds=60)
    predicted = Drawing.objects.get(pk=fresh.pk)
    assert predicted.prediction_status == Drawing.Prediction.DONE
    assert predicted.model_version == version


@pytest.mark.django_db
def test_retrain_without_the_training_extra_says_in_one_line_how_to_get_it():
    from importlib.util import find_spec as real_find_spec

    def without_tensorflow(name, *args):
        return None if name == "tensorflow" else real_find_spec(name, *args)

    with mock.patch("importlib.util.find_spec", side_effect=without_tensorflow):
        with pytest.raises(CommandError) as raised:
            call_command("retrain", "--limit", "10")

    message = str(raised.value)
    assert "\n" not in message
    assert "make install-train" in message and "requirements/train.txt" in message


@pytest.mark.django_db
def test_a_fine_tune_starts_from_the_active_model_only_when_it_can(tmp_path):
    folder = tmp_path / "v3"
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"weights")
    eleven = {"outputs": 11}
    version = ModelVersion(name="v3", path=str(folder), architecture="default", metrics=eleven)

    assert retrain.fine_tune_source(version, "default") == folder
    assert retrain.fine_tune_source(None, "default") is None, "nothing active: from scratch"
    assert retrain.fine_tune_source(version, "seed") is None
    version.metrics = {"outputs": 10}
    assert retrain.fine_tune_source(version, "default") is None, "no 'not a digit' output"
    version.metrics = eleven
    (folder / "model.keras").unlink()
    assert retrain.fine_tune_source(version, "default") is None, "no weights to start from"
