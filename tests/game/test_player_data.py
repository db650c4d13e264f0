"""A player is told their drawings are kept, can take them away, and can delete them."""

from __future__ import annotations

import io
import json
import zipfile
from unittest import mock

import pytest

from guessgame.game import services
from guessgame.game.models import Drawing, Game
from tests.factories import first_round, probabilities_for, submit

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase-9"


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


def play_two_rounds(player) -> list[Drawing]:
    game = services.game_start(player=player)
    drawings = []
    with mock.patch("guessgame.game.tasks.predict_drawing.delay"):
        for _ in range(2):
            drawing = submit(first_round(game), player)
            services.record_prediction(
                drawing=drawing, probabilities=probabilities_for(drawing.label, 0.9),
                model_version=None,
            )  # fmt: skip
            drawings.append(drawing)
    return drawings


def test_the_play_page_says_drawings_are_kept_and_used_for_training(client, ada):
    client.force_login(ada)
    game = services.game_start(player=ada)
    page = client.get(f"/play/{game.pk}").content.decode()

    assert "Your drawings are kept and used to train the model." in page
    assert 'href="/me/drawings.zip"' in page and 'href="/accounts/delete"' in page


def test_free_draw_says_nothing_is_kept_there(client):
    page = client.get("/draw").content.decode()

    assert "Nothing you draw here is kept." in page


def test_a_player_downloads_every_drawing_of_theirs_and_no_one_elses(client, ada, make_player):
    mine = play_two_rounds(ada)
    play_two_rounds(make_player("bob"))
    client.force_login(ada)
    response = client.get("/me/drawings.zip")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    records = [json.loads(line) for line in archive.read("drawings.ndjson").splitlines()]
    assert [r["key_id"] for r in records] == [str(d.pk) for d in mine]
    assert records[0]["label"] == mine[0].label and records[0]["drawing"] == mine[0].strokes
    assert archive.read(records[0]["png"]) == bytes(mine[0].image_png)
    assert len(archive.namelist()) == 3


def test_the_profile_offers_download_and_deletion_to_its_owner_only(client, ada, make_player):
    client.force_login(make_player("bob"))
    assert "/me/drawings.zip" not in client.get("/players/ada").content.decode()
    client.force_login(ada)
    page = client.get("/players/ada").content.decode()
    assert "/me/drawings.zip" in page and "/accounts/delete" in page


def test_deleting_asks_first_and_says_what_happens_to_trained_models(client, ada):
    play_two_rounds(ada)
    client.force_login(ada)
    page = client.get("/accounts/delete").content.decode()

    assert "<strong>2</strong> drawings" in page
    assert "cannot un-learn them" in page and "never exported or trained on again" in page


def test_a_wrong_password_deletes_nothing(client, ada):
    play_two_rounds(ada)
    client.force_login(ada)
    response = client.post("/accounts/delete", {"password": "not-it"})

    assert response.status_code == 400
    assert "nothing was deleted" in response.content.decode()
    assert Drawing.objects.filter(player=ada).count() == 2


def test_deleting_the_account_deletes_its_games_and_every_drawing(client, ada, make_player):
    play_two_rounds(ada)
    Drawing.objects.filter(player=ada).update(round=None)  # one left without its round
    kept = play_two_rounds(make_player("bob"))
    client.force_login(ada)
    response = client.post("/accounts/delete", {"password": PASSWORD}, follow=True)

    assert "Your account and its 2 drawings are deleted." in response.content.decode()
    assert not type(ada).objects.filter(username="ada").exists()
    assert not Game.objects.filter(player_id=ada.pk).exists()
    assert list(Drawing.objects.order_by("pk")) == kept
    assert client.get("/me").status_code == 302  # logged out
