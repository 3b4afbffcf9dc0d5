"""Team invitations (issue 25): a link or code that lets whoever has it join at once, until it expires, is
revoked or used up; the team's size holds when many accept together."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from apps.accounts.factories import UserFactory, login_client
from apps.teams import services
from apps.teams.factories import team
from apps.teams.models import TeamMember
from rangex.core.errors import Conflict, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog


@pytest.mark.django_db
def test_an_invitation_lets_its_holder_join_until_it_expires_is_revoked_or_used_up():
    crew = team(name="Crew", open_team=False)
    invitation = services.team_invitation_create(team=crew, actor=crew.leader, hours=2, max_uses=2)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    services.team_invitation_accept(code=invitation.code, user=first)
    with pytest.raises(Conflict, match="already a member"):
        services.team_invitation_accept(code=invitation.code, user=first)
    services.team_invitation_accept(code=invitation.code, user=second)
    with pytest.raises(Conflict, match="used up"):
        services.team_invitation_accept(code=invitation.code, user=third)

    later = services.team_invitation_create(team=crew, actor=crew.leader, hours=1)
    with time_machine.travel(later.expires_at + timedelta(seconds=1)), pytest.raises(Conflict, match="expired"):
        services.team_invitation_accept(code=later.code, user=third)
    services.team_invitation_revoke(invitation=later, actor=crew.leader)
    with pytest.raises(Conflict, match="withdrawn"):
        services.team_invitation_accept(code=later.code, user=third)
    with pytest.raises(NotFound):
        services.team_invitation_accept(code="no-such-code", user=third)
    assert set(TeamMember.objects.filter(team=crew).values_list("user", flat=True)) == {
        crew.leader_id, first.pk, second.pk,
    }  # fmt: skip
    actions = list(AuditLog.objects.filter(target_id=str(crew.pk)).values_list("action_type", flat=True))
    assert actions.count("team.invite_accept") == 2 and "team.invite_revoke" in actions


@pytest.mark.django_db
def test_only_the_leader_invites_and_the_limits_are_checked():
    crew = team(members=1)
    member = TeamMember.objects.filter(team=crew).exclude(user=crew.leader).get().user
    with pytest.raises(PermissionDenied):
        services.team_invitation_create(team=crew, actor=member)
    for bad in ({"hours": 0}, {"hours": 24 * 31}, {"max_uses": 0}, {"hours": "2"}):
        with pytest.raises(ValidationFailed):
            services.team_invitation_create(team=crew, actor=crew.leader, **bad)


@pytest.mark.django_db
def test_the_invitation_page_joins_and_says_so():
    crew = team(name="Page Crew", open_team=False)
    invitation = services.team_invitation_create(team=crew, actor=crew.leader)
    leader_page = login_client(crew.leader).get(reverse("teams:detail", args=[crew.pk])).content.decode()
    assert invitation.code in leader_page and "Copy link" in leader_page
    guest = UserFactory()
    client = login_client(guest)
    page = client.get(reverse("teams:invitation", args=[invitation.code])).content.decode()
    assert "Page Crew" in page and "Join Page Crew" in page
    response = client.post(reverse("teams:invitation", args=[invitation.code]), follow=True)
    assert "You joined Page Crew." in response.content.decode()
    assert TeamMember.objects.filter(team=crew, user=guest).exists()
    api = login_client(UserFactory()).post(reverse("api-team-invitation-accept", args=[invitation.code]))
    assert api.status_code == 201


@pytest.mark.django_db
def test_creating_joining_and_approving_say_what_happened():
    founder = login_client(UserFactory())
    response = founder.post(reverse("teams:create"), {"name": "Loud", "max_members": "3"}, follow=True)
    assert "Team Loud is created" in response.content.decode()
    crew = team(name="Closed", open_team=False)
    asker = UserFactory()
    response = login_client(asker).post(reverse("teams:join", args=[crew.pk]), follow=True)
    assert "Your request to join Closed was sent" in response.content.decode()
    request = crew.join_requests.get()
    response = login_client(crew.leader).post(reverse("teams:decide", args=[request.pk, "approve"]), follow=True)
    assert "is now a member" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_accepts_keep_the_team_size():
    crew = team(max_members=3, open_team=False)
    invitation = services.team_invitation_create(team=crew, actor=crew.leader)
    users = [UserFactory() for _ in range(6)]
    barrier = threading.Barrier(len(users))
    results = []

    def accept(user):
        try:
            barrier.wait()
            results.append(services.team_invitation_accept(code=invitation.code, user=user))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, LimitExceeded) for r in results) == 4
    assert TeamMember.objects.filter(team=crew).count() == 3
