import pytest
from django.urls import reverse

from apps.accounts.factories import UserFactory, login_client
from apps.teams import services
from apps.teams.models import TeamJoinRequest, TeamMember

pytestmark = pytest.mark.django_db


def test_team_pages_and_create(client, solver_client, solver):
    response = solver_client.post(reverse("teams:create"), {"name": "Page Team", "motto": "m", "country": "MY"})
    assert response.status_code == 302
    team = services.team_create(actor=UserFactory(), name="Listed")
    assert "Listed" in client.get(reverse("teams:list")).content.decode()
    page = client.get(reverse("teams:detail", args=[team.pk]))
    assert page.status_code == 200 and "Event history" in page.content.decode()
    bad = solver_client.post(reverse("teams:create"), {"name": "Bad", "country": "Malaysia"})
    assert bad.status_code == 400


def test_api_create_join_approve_and_leave():
    leader, joiner, stranger = UserFactory(), UserFactory(), UserFactory()
    leader_client, joiner_client, stranger_client = login_client(leader), login_client(joiner), login_client(stranger)
    created = leader_client.post(reverse("api-teams"), {"name": "Api Team"}, content_type="application/json")
    assert created.status_code == 201
    team_id = created.json()["id"]
    joined = joiner_client.post(
        reverse("api-team-join", args=[team_id]), {"message": "hi"}, content_type="application/json"
    )
    assert joined.status_code == 201 and joined.json()["status"] == "pending"
    request_id = joined.json()["id"]
    denied = stranger_client.post(reverse("api-team-approve", args=[request_id]), {}, content_type="application/json")
    assert denied.status_code == 404
    approved = leader_client.post(reverse("api-team-approve", args=[request_id]), {}, content_type="application/json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert TeamJoinRequest.objects.get(pk=request_id).status == "approved"
    assert joiner_client.post(reverse("api-team-leave", args=[team_id])).status_code == 204
    assert not TeamMember.objects.filter(team_id=team_id, user=joiner).exists()


def test_non_leader_member_cannot_approve():
    leader, member, joiner = UserFactory(), UserFactory(), UserFactory()
    team = services.team_create(actor=leader, name="Approvals")
    services.team_join_request_approve(request=services.team_join(team=team, user=member), actor=leader)
    pending = services.team_join(team=team, user=joiner)
    response = login_client(member).post(
        reverse("api-team-approve", args=[pending.pk]), {}, content_type="application/json"
    )
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_requester_sees_and_cancels_their_pending_request_on_the_page_and_the_api():
    leader, joiner, other = UserFactory(), UserFactory(), UserFactory()
    team = services.team_create(actor=leader, name="Closed Door")
    joiner_client, leader_client = login_client(joiner), login_client(leader)
    joiner_client.post(reverse("teams:join", args=[team.pk]), {"message": "please"})
    request = TeamJoinRequest.objects.get(team=team, user=joiner)
    page = joiner_client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert "Request pending" in page and "Cancel request" in page and "Ask to join" not in page
    # Only the requester may withdraw it; to the leader it is not theirs to cancel.
    leader_client.post(reverse("teams:decide", args=[request.pk, "cancel"]))
    assert TeamJoinRequest.objects.get(pk=request.pk).status == "pending"
    joiner_client.post(reverse("teams:decide", args=[request.pk, "cancel"]))
    assert TeamJoinRequest.objects.get(pk=request.pk).status == "cancelled"
    page = joiner_client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert "Ask to join" in page and "Request pending" not in page

    other_client = login_client(other)
    joined = other_client.post(reverse("api-team-join", args=[team.pk]), {}, content_type="application/json")
    request_id = joined.json()["id"]
    refused = leader_client.post(reverse("api-team-cancel", args=[request_id]), {}, content_type="application/json")
    assert refused.status_code == 404
    cancelled = other_client.post(reverse("api-team-cancel", args=[request_id]), {}, content_type="application/json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = other_client.post(reverse("api-team-cancel", args=[request_id]), {}, content_type="application/json")
    assert again.status_code == 409
