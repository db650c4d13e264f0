"""The admin site: a bulk action on ids that are not ids is a message, never a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from guessgame.game.models import Drawing
from guessgame.review.models import ReviewDecision
from tests.factories import DrawingFactory

pytestmark = pytest.mark.django_db


def changelists_with_actions(request):
    """(url, first action name) of every registered model admin that offers an action."""
    for model, model_admin in admin.site._registry.items():
        actions = model_admin.get_actions(request)
        if actions:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            yield url, next(iter(actions))


@pytest.mark.parametrize("selected", ["abc", "9" * 5_000, str(2**64), "-1.5", "1; DROP"])
def test_a_bulk_action_on_unreadable_ids_says_so_on_every_list(staff_client, rf, staff, selected):
    request = rf.get("/admin/")
    request.user = staff
    lists = list(changelists_with_actions(request))
    assert len(lists) >= 4  # drawings, games, rounds, users, groups, axes' records...

    for url, action in lists:
        response = staff_client.post(
            url, {"action": action, "_selected_action": [selected]}, follow=True
        )

        assert response.status_code == 200, url
        shown = [str(message) for message in response.context["messages"]]
        assert any("could not be read" in text for text in shown), (url, shown)


def test_nothing_changes_when_one_selected_id_is_unreadable(staff_client):
    drawing = DrawingFactory(wrong=True)

    staff_client.post(
        reverse("admin:game_drawing_changelist"),
        {"action": "approve", "_selected_action": [str(drawing.pk), "abc"]},
    )

    drawing.refresh_from_db()
    assert drawing.review_status == Drawing.Review.UNREVIEWED
    assert not ReviewDecision.objects.exists()
