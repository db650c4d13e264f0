"""The Django admin: drawings with their images, filters and audited review actions."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from guessgame.game.models import Drawing
from guessgame.review.models import Reprediction, ReviewDecision
from inference import lifecycle
from inference.models import ModelActivation, ModelVersion
from tests.factories import DrawingFactory, UserFactory, make_version

pytestmark = pytest.mark.django_db
Review = Drawing.Review
CHANGELIST = "admin:game_drawing_changelist"


def run_action(client, action: str, drawings):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [d.pk for d in drawings]},
        follow=True,
    )


def test_the_drawing_list_shows_images_guesses_and_review_status(staff_client):
    drawing = DrawingFactory(label=4, wrong=True, player=UserFactory(username="ada"))

    response = staff_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("review:drawing_image", args=[drawing.pk]) in page
    assert reverse("review:drawing_pixels", args=[drawing.pk]) in page
    assert "ada" in page and "0.40" in page and "Unreviewed" in page


def test_the_list_filters_drawings_the_model_called_not_a_digit(staff_client):
    scribble = DrawingFactory(label=5, not_a_digit=True)
    digit = DrawingFactory(label=5)

    response = staff_client.get(reverse(CHANGELIST), {"not_digit__exact": "1"})

    assert {d.pk for d in response.context["cl"].result_list} == {scribble.pk}
    page = response.content.decode()
    assert "not a digit" in page  # the filter's title and the guess column
    others = staff_client.get(reverse(CHANGELIST), {"not_digit__exact": "0"})
    assert {d.pk for d in others.context["cl"].result_list} == {digit.pk}


@pytest.mark.parametrize(
    "query, shown",
    [
        ({"misclassified": "yes"}, {"wrong"}),
        ({"misclassified": "no"}, {"right", "flagged"}),
        ({"confidence": "low"}, {"wrong"}),
        ({"confidence": "certain"}, {"flagged"}),
        ({"flagged": "yes"}, {"flagged"}),
        ({"flagged": "label_wrong"}, {"flagged"}),
        ({"review_status__exact": "approved"}, {"right"}),
        ({"label__exact": "6"}, {"wrong"}),
        ({"predicted_digit__exact": "7"}, {"wrong"}),
        ({"q": "grace"}, {"flagged"}),
    ],
)
def test_filters_and_search_narrow_the_list(staff_client, staff, query, shown):
    from guessgame.review import services

    drawings = {
        "wrong": DrawingFactory(label=6, predicted_digit=7, confidence=0.3),
        "right": DrawingFactory(label=1, confidence=0.7),
        "flagged": DrawingFactory(
            label=2,
            confidence=0.97,
            flag=Drawing.Flag.LABEL_WRONG,
            player=UserFactory(username="grace"),
        ),
    }
    services.review_approve(drawings=[drawings["right"]], reviewer=staff)

    response = staff_client.get(reverse(CHANGELIST), query)

    assert response.status_code == 200
    listed = {d.pk for d in response.context["cl"].result_list}
    assert listed == {drawings[name].pk for name in shown}


def test_the_misclassified_filter_uses_the_reviewed_label(staff_client, staff):
    from guessgame.review import services

    relabelled_to_guess = DrawingFactory(label=3, predicted_digit=8)
    relabelled_away = DrawingFactory(label=4, predicted_digit=4)
    services.review_relabel(drawings=[relabelled_to_guess], label=8, reviewer=staff)
    services.review_relabel(drawings=[relabelled_away], label=9, reviewer=staff)

    def listed(value):
        response = staff_client.get(reverse(CHANGELIST), {"misclassified": value})
        return {d.pk for d in response.context["cl"].result_list}

    assert listed("yes") == {relabelled_away.pk}
    assert listed("no") == {relabelled_to_guess.pk}


def test_the_label_filter_uses_the_true_digit_as_everything_else_does(staff_client, staff):
    from guessgame.review import services

    asked_3_drew_8 = DrawingFactory(label=3, drawn_digit=8, predicted_digit=8)
    asked_8 = DrawingFactory(label=8)
    services.review_relabel(drawings=[asked_3_drew_8], label=8, reviewer=staff)

    eights = staff_client.get(reverse(CHANGELIST), {"truth": "8"})
    threes = staff_client.get(reverse(CHANGELIST), {"truth": "3"})

    assert {d.pk for d in eights.context["cl"].result_list} == {asked_3_drew_8.pk, asked_8.pk}
    assert list(threes.context["cl"].result_list) == []
    assert "8 (asked for 3)" in eights.content.decode()


def test_a_bulk_approve_skips_relabelled_drawings_and_says_so(staff_client, staff):
    from guessgame.review import services

    relabelled = DrawingFactory(label=3, drawn_digit=8, predicted_digit=8)
    services.review_relabel(drawings=[relabelled], label=8, reviewer=staff)
    others = DrawingFactory.create_batch(2, label=8)

    response = run_action(staff_client, "approve", [relabelled, *others])

    relabelled.refresh_from_db()
    assert (relabelled.review_status, relabelled.effective_label) == (Review.RELABELLED, 8)
    assert {d.review_status for d in Drawing.objects.filter(pk__in=[o.pk for o in others])} == {
        Review.APPROVED
    }
    page = response.content.decode()
    assert "Approved: 2 drawing(s)." in page
    assert f"Skipped 1 relabelled drawing(s) (id {relabelled.pk})" in page
    assert relabelled.decisions.count() == 1, "only the relabel: no silent approve"


@pytest.mark.parametrize("action", ["reject", "relabel_to_5"])
def test_other_bulk_actions_leave_relabels_alone_too(staff_client, staff, action):
    from guessgame.review import services

    relabelled = DrawingFactory(label=3, drawn_digit=8, predicted_digit=8)
    services.review_relabel(drawings=[relabelled], label=8, reviewer=staff)

    response = run_action(staff_client, action, [relabelled])

    relabelled.refresh_from_db()
    assert (relabelled.review_status, relabelled.effective_label) == (Review.RELABELLED, 8)
    assert "Skipped 1 relabelled drawing(s)" in response.content.decode()


def test_the_model_version_and_date_filters_work(staff_client):
    version = ModelVersion.objects.create(name="v-filter", path="x")
    mine = DrawingFactory(model_version=version)
    DrawingFactory()

    response = staff_client.get(reverse(CHANGELIST), {"model_version__id__exact": version.pk})
    assert [d.pk for d in response.context["cl"].result_list] == [mine.pk]

    year = mine.created_at.year
    response = staff_client.get(reverse(CHANGELIST), {"created_at__year": year})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2


def test_approving_from_the_list_is_audited(staff_client, staff):
    drawings = DrawingFactory.create_batch(2, wrong=True)

    response = run_action(staff_client, "approve", drawings)

    assert "Approved: 2 drawing(s)" in response.content.decode()
    assert ReviewDecision.objects.filter(reviewer=staff, new_status=Review.APPROVED).count() == 2


def test_relabelling_from_the_list_uses_the_chosen_digit(staff_client, staff):
    drawing = DrawingFactory(label=3, wrong=True)

    run_action(staff_client, "relabel_to_8", [drawing])

    drawing.refresh_from_db()
    assert (drawing.review_status, drawing.effective_label, drawing.reviewed_by) == (
        Review.RELABELLED,
        8,
        staff,
    )


def test_rejecting_from_the_list_is_audited(staff_client):
    drawing = DrawingFactory()

    run_action(staff_client, "reject", [drawing])

    drawing.refresh_from_db()
    assert drawing.review_status == Review.REJECTED
    assert ReviewDecision.objects.get().drawing == drawing


def test_repredicting_from_the_list_queues_the_drawings(
    staff_client, tmp_path, django_capture_on_commit_callbacks
):
    folder = tmp_path / "v1"
    folder.mkdir()
    ModelVersion.objects.create(name="v1", path=str(folder)).activate()
    drawing = DrawingFactory(wrong=True)

    with mock.patch("guessgame.game.services.queue_prediction") as queue:
        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(staff_client, "repredict", [drawing])

    assert "Queued for a new guess: 1 drawing(s)" in response.content.decode()
    queue.assert_called_once_with(drawing.pk)
    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.PENDING


def test_repredicting_from_the_list_records_who_and_when(staff_client, staff, tmp_path):
    folder = tmp_path / "v1"
    folder.mkdir()
    ModelVersion.objects.create(name="v1", path=str(folder)).activate()
    drawing = DrawingFactory(label=2, predicted_digit=7, confidence=0.3)

    with mock.patch("guessgame.game.services.queue_prediction"):
        run_action(staff_client, "repredict", [drawing])

    record = Reprediction.objects.get(drawing=drawing)
    assert record.requested_by == staff and record.requested_at is not None
    page = staff_client.get(reverse("admin:game_drawing_change", args=[drawing.pk]))
    assert "Re-predictions" in page.content.decode()
    assert staff.username in page.content.decode()
    listing = staff_client.get(reverse("admin:review_reprediction_changelist"))
    assert listing.status_code == 200 and str(drawing) in listing.content.decode()


def test_repredicting_without_an_active_model_says_why(staff_client):
    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    drawing = DrawingFactory()

    response = run_action(staff_client, "repredict", [drawing])

    assert "no active model" in response.content.decode()
    drawing.refresh_from_db()
    assert drawing.prediction_status == Drawing.Prediction.DONE


def test_the_drawing_page_shows_both_images_and_the_audit_trail(staff_client, staff):
    from guessgame.review import services

    drawing = DrawingFactory(label=3)
    services.review_relabel(drawings=[drawing], label=5, reviewer=staff)

    response = staff_client.get(reverse("admin:game_drawing_change", args=[drawing.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("review:drawing_pixels", args=[drawing.pk]) in page
    assert "Relabelled" in page and staff.username in page
    assert 'name="review_status"' not in page, "review fields change only through actions"


@pytest.mark.parametrize(
    "url",
    [
        "admin:game_game_changelist",
        "admin:game_round_changelist",
        "admin:review_reviewdecision_changelist",
        "admin:inference_modelversion_changelist",
        "admin:inference_modelactivation_changelist",
        "admin:review_reprediction_changelist",
    ],
)
def test_the_other_admin_pages_render_for_staff(staff_client, url):
    assert staff_client.get(reverse(url)).status_code == 200


def test_the_audit_trail_cannot_be_edited(staff_client, staff):
    from guessgame.review import services

    [decision] = services.review_approve(drawings=[DrawingFactory()], reviewer=staff).decisions

    page = staff_client.get(reverse("admin:review_reviewdecision_change", args=[decision.pk]))
    assert page.status_code == 200
    assert 'name="new_status"' not in page.content.decode()
    assert staff_client.get(reverse("admin:review_reviewdecision_add")).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        CHANGELIST,
        "admin:inference_modelversion_changelist",
        "admin:inference_modelactivation_changelist",
        "admin:review_reprediction_changelist",
    ],
)
def test_the_admin_refuses_players(logged_in, url):
    response = logged_in.get(reverse(url))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_players_cannot_run_review_actions(logged_in):
    drawing = DrawingFactory()

    run_action(logged_in, "reject", [drawing])

    drawing.refresh_from_db()
    assert drawing.review_status == Review.UNREVIEWED


def test_a_model_version_can_be_activated_from_the_admin(staff_client, tmp_path):
    versions = [make_version(tmp_path, name) for name in ("v1", "v2")]
    for version in versions:
        version.metrics["mnist_test_accuracy"] = 0.987
        version.save()
    versions[0].activate()

    listing = staff_client.get(reverse("admin:inference_modelversion_changelist"))
    assert "0.9870" in listing.content.decode()
    staff_client.post(
        reverse("admin:inference_modelversion_changelist"),
        {"action": "activate", "_selected_action": [versions[1].pk]},
    )

    assert ModelVersion.active() == versions[1]


def test_the_admin_cannot_bypass_the_gate(staff_client, tmp_path):
    first = make_version(tmp_path, "v1", active=True)
    refused = make_version(tmp_path, "v2", verdict="refuse")

    response = staff_client.post(
        reverse("admin:inference_modelversion_changelist"),
        {"action": "activate", "_selected_action": [refused.pk]},
        follow=True,
    )

    assert ModelVersion.active() == first
    assert "The gate did not accept v2 (refuse)" in response.content.decode()


def test_model_activations_are_shown_read_only_in_the_admin(staff_client, staff, tmp_path):

    ModelVersion.objects.update(is_active=False)  # the shipped one may be active
    versions = []
    for name in ("v-old", "v-new"):
        versions.append(make_version(tmp_path, name))
        lifecycle.activate(version=versions[-1], by=staff)
    change = ModelActivation.objects.get(to_version=versions[1])

    listing = staff_client.get(reverse("admin:inference_modelactivation_changelist"))
    page = listing.content.decode()
    assert "v-old" in page and "v-new" in page and staff.username in page
    detail = staff_client.get(reverse("admin:inference_modelactivation_change", args=[change.pk]))
    assert detail.status_code == 200
    assert 'name="to_version"' not in detail.content.decode()
    assert staff_client.get(reverse("admin:inference_modelactivation_add")).status_code == 403
    staff_client.post(
        reverse("admin:inference_modelactivation_delete", args=[change.pk]), {"post": "yes"}
    )
    assert ModelActivation.objects.filter(pk=change.pk).exists()
