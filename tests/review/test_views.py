"""The staff pages: review queue with keyboard decisions, dashboard, model versions."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from guessgame.game.models import Drawing
from guessgame.review.models import ReviewDecision
from inference.models import ModelActivation, ModelVersion
from tests.factories import DrawingFactory, StaffFactory

pytestmark = pytest.mark.django_db
Review = Drawing.Review

PAGES = ["review:queue", "review:dashboard", "review:models"]


def post_json(client, name: str, body) -> object:
    return client.post(reverse(name), data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_send_anonymous_visitors_to_the_login(client, page):
    response = client.get(reverse(page))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("page", PAGES)
def test_staff_pages_refuse_players(logged_in, page):
    response = logged_in.get(reverse(page))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_players_cannot_post_decisions_or_undo(logged_in):
    drawing = DrawingFactory(wrong=True)

    response = post_json(logged_in, "review:decide", {"drawing": drawing.pk, "action": "reject"})
    assert response.status_code == 302
    assert post_json(logged_in, "review:undo", {}).status_code == 302

    drawing.refresh_from_db()
    assert drawing.review_status == Review.UNREVIEWED
    assert not ReviewDecision.objects.exists()


def test_players_cannot_see_drawing_images(logged_in):
    drawing = DrawingFactory()

    for name in ("review:drawing_image", "review:drawing_pixels"):
        assert logged_in.get(reverse(name, args=[drawing.pk])).status_code == 302


def test_the_queue_shows_the_least_confident_drawings_and_progress(staff_client):
    unsure = DrawingFactory(wrong=True, confidence=0.2)
    sure = DrawingFactory(wrong=True, confidence=0.7)
    right = DrawingFactory(confidence=0.95)

    response = staff_client.get(reverse("review:queue"), {"mode": "least_confident"})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(f'data-id="{unsure.pk}"') < page.index(f'data-id="{sure.pk}"')
    assert page.index(f'data-id="{sure.pk}"') < page.index(f'data-id="{right.pk}"')
    assert "0</span> of" in page and "2</span> reviewed" in page
    assert "js/review.js" in page
    assert 'type="module"' in page
    assert "<script>" not in page and "style=" not in page


def test_the_queue_opens_on_confident_disagreements_with_every_mode_counted(staff_client):
    wrong_label = DrawingFactory(label=3, predicted_digit=8, confidence=0.99)
    DrawingFactory(wrong=True, confidence=0.3)
    DrawingFactory(label=2, not_a_digit=True, confidence=0.9)

    page = staff_client.get(reverse("review:queue")).content.decode()

    assert f'data-id="{wrong_label.pk}"' in page and page.count('class="review-card"') == 1
    assert 'aria-current="page">Confident disagreements <span class="count">1</span>' in page
    assert 'href="?mode=not_digit"' in page and "Not a digit <span" in page
    assert "Random audit" in page and "Least confident" in page and "Flagged" in page
    assert "yours for 15 minutes" in page


def test_the_queue_shows_the_top_three_guesses_and_a_large_view(staff_client):
    DrawingFactory(
        label=3,
        predicted_digit=8,
        confidence=0.81,
        probabilities=[0, 0, 0, 0.1, 0, 0.05, 0, 0, 0.81, 0],
    )

    page = staff_client.get(reverse("review:queue")).content.decode()

    top = page[page.index("data-top>") : page.index("</ol>", page.index("data-top>"))]
    assert top.index("<span>8</span>") < top.index("<span>3</span>") < top.index("<span>5</span>")
    assert "data-large-pixels" in page and "data-large-top" in page


def test_the_queue_counts_each_reviewers_decisions(staff_client, staff):
    from guessgame.review import services

    services.review_approve(drawings=DrawingFactory.create_batch(3), reviewer=staff)

    page = staff_client.get(reverse("review:queue")).content.decode()

    assert f'<th scope="row">{staff.username}</th><td>3</td><td>3</td>' in page


def test_an_unknown_queue_mode_is_a_sentence_not_an_error(staff_client):
    response = staff_client.get(reverse("review:queue"), {"mode": "everything"})

    assert response.status_code == 400
    assert "Unknown queue mode" in response.content.decode()


def test_s_passes_a_drawing_on_to_another_reviewer(staff_client, staff):
    drawing = DrawingFactory(label=3, predicted_digit=8, confidence=0.99)
    staff_client.get(reverse("review:queue"))

    response = staff_client.post(
        reverse("review:skip"), {"drawing": drawing.pk}, content_type="application/json"
    )

    assert response.json() == {"skipped": drawing.pk}
    assert (
        f'data-id="{drawing.pk}"' not in staff_client.get(reverse("review:queue")).content.decode()
    )
    bad = staff_client.post(
        reverse("review:skip"), {"drawing": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "numeric 'drawing' id" in bad.json()["error"]
    gone = staff_client.post(
        reverse("review:skip"), {"drawing": 2**40}, content_type="application/json"
    )
    assert gone.status_code == 404 and "does not exist" in gone.json()["error"]


def test_a_decision_on_a_drawing_another_reviewer_relabelled_is_refused(staff_client):
    from guessgame.review import services

    drawing = DrawingFactory(label=3, predicted_digit=8, confidence=0.99)
    services.review_relabel(drawings=[drawing], label=8, reviewer=StaffFactory(username="bob"))
    url = reverse("review:decide")

    response = staff_client.post(
        url, {"drawing": drawing.pk, "action": "approve"}, content_type="application/json"
    )

    assert response.status_code == 409 and "relabelled to 8" in response.json()["error"]
    drawing.refresh_from_db()
    assert drawing.effective_label == 8
    forced = staff_client.post(
        url,
        {"drawing": drawing.pk, "action": "approve", "overwrite_relabel": True},
        content_type="application/json",
    )
    assert forced.status_code == 200 and forced.json()["drawing"]["effective_label"] == 3


def test_an_empty_queue_says_so(staff_client):
    response = staff_client.get(reverse("review:queue"))

    assert "Nothing to review" in response.content.decode()


@pytest.mark.parametrize(
    "body, status, label",
    [
        ({"action": "approve"}, Review.APPROVED, 3),
        ({"action": "reject"}, Review.REJECTED, 3),
        ({"action": "relabel", "label": 8}, Review.RELABELLED, 8),
    ],
)
def test_a_key_press_decides_and_answers_with_the_new_progress(
    staff_client, staff, body, status, label
):
    drawing = DrawingFactory(label=3, wrong=True)
    DrawingFactory(wrong=True)

    response = post_json(staff_client, "review:decide", {"drawing": drawing.pk, **body})

    assert response.status_code == 200
    data = response.json()
    assert data["drawing"] == {
        "id": drawing.pk,
        "review_status": status,
        "label": 3,
        "effective_label": label,
    }
    assert data["progress"] == {"reviewed": 1, "total": 2}
    decision = ReviewDecision.objects.get()
    assert (decision.reviewer, decision.new_status) == (staff, status)


def test_undo_answers_with_the_restored_drawing(staff_client):
    drawing = DrawingFactory(label=3, wrong=True)
    post_json(staff_client, "review:decide", {"drawing": drawing.pk, "action": "reject"})

    response = post_json(staff_client, "review:undo", {})

    assert response.status_code == 200
    data = response.json()
    assert data["undone"] == [
        {"id": drawing.pk, "review_status": "unreviewed", "label": 3, "effective_label": 3}
    ]
    assert data["progress"] == {"reviewed": 0, "total": 1}
    assert post_json(staff_client, "review:undo", {}).json()["undone"] == []


@pytest.mark.parametrize(
    "body, status, message",
    [
        ("not json", 400, "JSON"),
        ([1, 2], 400, "JSON object"),
        ({"action": "approve"}, 400, "which drawing"),
        ({"drawing": "1", "action": "approve"}, 400, "which drawing"),
        ({"drawing": 999999, "action": "approve"}, 404, "does not exist"),
        ({"drawing": 10**30, "action": "approve"}, 404, "does not exist"),
        ({"drawing": -1, "action": "approve"}, 404, "does not exist"),
        ({"drawing": None, "action": "relabel", "label": 11}, 400, "digit from 0 to 9"),
        ({"drawing": None, "action": "relabel", "label": "7"}, 400, "digit from 0 to 9"),
        ({"drawing": None, "action": "delete"}, 400, "'approve', 'reject' or 'relabel'"),
        ('{"drawing": ' + "9" * 3_000 + ', "action": "approve"}', 400, "number is longer"),
        ('{"drawing": ' + "9" * 5_000 + ', "action": "approve"}', 413, "too large"),
        ("[" * 1_000 + "]" * 1_000, 400, "nested over 2 levels"),
        ("[" * 50_000 + "]" * 50_000, 413, "too large"),
        ('{"drawing": NaN, "action": "approve"}', 400, "NaN is not a JSON number"),
    ],
)
def test_bad_decisions_get_a_4xx_with_a_sentence(staff_client, body, status, message):
    drawing = DrawingFactory(wrong=True)
    if isinstance(body, dict) and "drawing" in body and body["drawing"] is None:
        body["drawing"] = drawing.pk
    data = body if isinstance(body, str) else json.dumps(body)

    response = staff_client.post(
        reverse("review:decide"), data=data, content_type="application/json"
    )

    assert response.status_code == status
    assert message in response.json()["error"]
    assert not ReviewDecision.objects.exists()


@pytest.mark.parametrize("version, status", [("²", 400), ("abc", 400), ("9" * 5_000, 404)])
def test_the_dashboard_refuses_a_version_that_is_not_an_id(staff_client, version, status):
    response = staff_client.get(reverse("review:dashboard"), {"version": version})

    assert response.status_code == status


def test_decisions_need_post(staff_client):
    assert staff_client.get(reverse("review:decide")).status_code == 405


def test_decisions_need_the_csrf_token(staff):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    drawing = DrawingFactory(wrong=True)

    response = post_json(client, "review:decide", {"drawing": drawing.pk, "action": "approve"})

    assert response.status_code == 403
    assert not ReviewDecision.objects.exists()


def test_staff_see_the_drawing_and_what_the_model_saw(staff_client):
    drawing = DrawingFactory()

    original = staff_client.get(reverse("review:drawing_image", args=[drawing.pk]))
    pixels = staff_client.get(reverse("review:drawing_pixels", args=[drawing.pk]))

    assert original["Content-Type"] == "image/png"
    assert original.content == bytes(drawing.image_png)
    from io import BytesIO

    import numpy as np
    from PIL import Image

    image = Image.open(BytesIO(pixels.content))
    assert image.size == (112, 112)
    assert np.asarray(image)[::4, ::4].tobytes() == bytes(drawing.pixels)


def test_a_drawing_id_too_large_for_the_database_is_not_found(staff_client):
    url = reverse("review:drawing_image", args=[1]).replace("/1/", f"/{10**30}/")

    assert staff_client.get(url).status_code == 404


def test_a_drawing_not_preprocessed_has_no_model_image(staff_client):
    drawing = DrawingFactory(pixels=None)

    assert staff_client.get(reverse("review:drawing_pixels", args=[drawing.pk])).status_code == 404


def test_the_dashboard_draws_accuracy_charts_and_the_confusion_matrix(staff_client):
    version = ModelVersion.objects.create(name="v-dash", path="x")
    DrawingFactory.create_batch(3, label=2, model_version=version)
    DrawingFactory(label=2, predicted_digit=7, model_version=version)

    response = staff_client.get(reverse("review:dashboard"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") == 3
    assert "v-dash" in page
    assert "0.750" in page  # 3 of 4 right
    matrix = response.context["confusion"]
    assert matrix[2][2]["count"] == 3 and matrix[2][7]["count"] == 1
    assert "style=" not in page

    narrowed = staff_client.get(reverse("review:dashboard"), {"version": version.pk})
    assert narrowed.status_code == 200
    assert staff_client.get(reverse("review:dashboard"), {"version": "x"}).status_code == 400
    assert staff_client.get(reverse("review:dashboard"), {"version": "999"}).status_code == 404


@pytest.fixture
def versions(tmp_path):
    made = []
    for name in ("v1", "v2"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "model.tflite").write_bytes(b"model")
        (folder / "training_curves.png").write_bytes(b"\x89PNG curves of " + name.encode())
        (folder / "confusion_matrix.png").write_bytes(b"\x89PNG matrix")
        made.append(
            ModelVersion.objects.create(
                name=name,
                path=str(folder),
                metrics={
                    "mnist_test_accuracy": 0.9912,
                    "dataset_sizes": {"test": 300},
                    "gate": {"verdict": "accept", "reason": "accept: test"},
                },
            )
        )
    ModelActivation.objects.all().delete()  # migrate's switch to the shipped model
    made[0].activate()
    ModelActivation.objects.create(kind="activate", to_version=made[0])
    return made


def test_model_versions_list_metrics_and_plots(staff_client, versions):
    response = staff_client.get(reverse("review:models"))

    page = response.content.decode()
    assert "0.9912" in page
    assert reverse("review:model_plot", args=[versions[1].pk, "training_curves.png"]) in page
    assert "Activate v2" in page and "Activate v1" not in page

    plot = staff_client.get(
        reverse("review:model_plot", args=[versions[1].pk, "training_curves.png"])
    )
    assert plot["Content-Type"] == "image/png"
    assert b"".join(plot.streaming_content) == b"\x89PNG curves of v2"


def test_the_models_page_shows_each_versions_model_card(staff_client, versions):
    (versions[1].directory / "MODEL_CARD.md").write_text(
        "# Model card: v2\n\n## Known limits\n\n- <b>thick pens</b>\n"
    )
    page = staff_client.get(reverse("review:models")).content.decode()

    assert "# Model card: v2" in page and "&lt;b&gt;thick pens&lt;/b&gt;" in page
    assert f"python -m training.model_card {versions[0].path}" in page


@pytest.mark.parametrize("name", ["model.tflite", "..%2Fv1%2Ftraining_curves.png", "missing.png"])
def test_only_plots_are_served(staff_client, versions, name):
    url = reverse("review:model_plot", args=[versions[0].pk, "x.png"]).replace("x.png", name)

    assert staff_client.get(url).status_code == 404


def test_activate_and_roll_back_buttons(staff_client, versions):
    first, second = versions

    response = staff_client.post(reverse("review:model_activate", args=[second.pk]), follow=True)
    assert ModelVersion.active() == second
    page = response.content.decode()
    assert "v2 is now the active model" in page
    assert "Roll back to v1" in page

    response = staff_client.post(
        reverse("review:model_rollback"), {"version": first.pk}, follow=True
    )
    assert ModelVersion.active() == first
    page = response.content.decode()
    assert "Rolled back" in page
    assert "Roll back to" not in page, "v2 was rolled back from: it is not a target"


def test_the_models_page_shows_each_gate_result_and_what_a_figure_was_measured_on(
    staff_client, versions
):
    versions[1].metrics["gate"] = {
        "verdict": "refuse",
        "reason": "refuse: worse on the players' hold-out (120 drawings from 9 players)",
        "active_version": "v1",
        "comparisons": [
            {"set": "players' hold-out", "size": 120, "players": 9, "candidate": 0.81,
             "active": 0.86, "interval": [-0.09, -0.01]},
        ],
    }  # fmt: skip
    versions[1].save()

    page = staff_client.get(reverse("review:models")).content.decode()

    assert "Active: <strong>v1</strong>, gate:" in page
    assert "0.9912 on 300 digits" in page
    assert "refuse: worse on the players&#x27; hold-out (120 drawings from 9 players)" in page
    assert "120 drawings from 9 players: 0.8100 vs 0.8600 active" in page
    assert "Override the gate and activate v2" in page and 'name="reason"' in page


def test_activating_a_refused_version_needs_a_typed_reason(staff_client, staff, versions):
    versions[1].metrics["gate"] = {"verdict": "refuse", "reason": "refuse: worse"}
    versions[1].save()
    url = reverse("review:model_activate", args=[versions[1].pk])

    response = staff_client.post(url, follow=True)

    assert ModelVersion.active() == versions[0]
    assert "type why" in response.content.decode()
    staff_client.post(url, {"reason": "the 7s are broken in v1, see #12"})
    assert ModelVersion.active() == versions[1]
    change = ModelActivation.objects.get(to_version=versions[1])
    assert (change.kind, change.changed_by) == (ModelActivation.Kind.OVERRIDE, staff)
    assert "the 7s are broken in v1" in change.note


def test_players_cannot_activate_models(logged_in, versions):
    logged_in.post(reverse("review:model_activate", args=[versions[1].pk]))
    logged_in.post(reverse("review:model_rollback"))
    plot = reverse("review:model_plot", args=[versions[1].pk, "training_curves.png"])
    assert logged_in.get(plot).status_code == 302

    assert ModelVersion.active() == versions[0]


def test_staff_find_the_staff_pages_in_the_menu_and_the_admin(staff_client):
    home = staff_client.get(reverse("home")).content.decode()
    admin_index = staff_client.get(reverse("admin:index")).content.decode()

    assert f'<a href="{reverse("review:queue")}">Staff</a>' in home
    for name in ("review:queue", "review:dashboard", "review:models"):
        assert f'href="{reverse(name)}"' in admin_index, name


def test_players_do_not_see_the_staff_link(client, player):
    client.force_login(player)

    assert ">Staff</a>" not in client.get(reverse("home")).content.decode()
