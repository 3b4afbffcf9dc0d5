import threading

import pytest
from django.db import connection

from apps.accounts.factories import UserFactory
from apps.teams import services
from apps.teams.models import Team, TeamJoinRequest, TeamMember
from rangex.core.errors import Conflict, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db


def test_create_makes_the_owner_leader_and_member():
    owner = UserFactory()
    team = services.team_create(actor=owner, name="Red Rabbits", motto="hop", country="my")
    assert team.leader == owner and team.owner_user == owner and team.country == "MY"
    assert TeamMember.objects.get(team=team).role == TeamMember.Role.LEADER
    assert AuditLog.objects.filter(action_type="team.create", target_id=str(team.pk)).exists()


def test_create_refuses_a_taken_name_and_bad_country():
    services.team_create(actor=UserFactory(), name="Taken")
    with pytest.raises((Conflict, ValidationFailed)):
        services.team_create(actor=UserFactory(), name="taken")
    with pytest.raises(ValidationFailed):
        services.team_create(actor=UserFactory(), name="Other", country="Malaysia")
    assert Team.objects.count() == 1


def test_open_team_accepts_at_once_and_closed_team_waits_for_the_leader():
    leader, joiner, other = UserFactory(), UserFactory(), UserFactory()
    open_team = services.team_create(actor=leader, name="Open", open_team=True)
    request = services.team_join(team=open_team, user=joiner)
    assert request.status == TeamJoinRequest.Status.APPROVED
    assert TeamMember.objects.filter(team=open_team, user=joiner).exists()

    closed = services.team_create(actor=leader, name="Closed")
    request = services.team_join(team=closed, user=joiner, message="let me in")
    assert request.status == TeamJoinRequest.Status.PENDING
    assert Notification.objects.filter(user=leader, title__contains="asks to join").exists()
    with pytest.raises(PermissionDenied):
        services.team_join_request_approve(request=request, actor=other)
    services.team_join_request_approve(request=request, actor=leader, message="welcome")
    assert TeamMember.objects.filter(team=closed, user=joiner).exists()
    assert Notification.objects.filter(user=joiner, title__contains="accepted").exists()

    declined = services.team_join(team=closed, user=other)
    services.team_join_request_decline(request=declined, actor=leader, message="no room for you")
    declined.refresh_from_db()
    assert declined.status == "declined" and declined.response_message == "no room for you"
    with pytest.raises(Conflict):
        services.team_join_request_approve(request=declined, actor=leader)
    assert not TeamMember.objects.filter(team=closed, user=other).exists()


def test_join_refuses_a_full_team_closed_registrations_and_twice():
    leader = UserFactory()
    team = services.team_create(actor=leader, name="Tiny", open_team=True, max_members=2)
    services.team_join(team=team, user=UserFactory())
    with pytest.raises(LimitExceeded):
        services.team_join(team=team, user=UserFactory())
    closed = services.team_create(actor=leader, name="Shut", registrations_open=False)
    with pytest.raises(Conflict):
        services.team_join(team=closed, user=UserFactory())
    user = UserFactory()
    pending = services.team_create(actor=leader, name="Pending")
    services.team_join(team=pending, user=user)
    with pytest.raises(Conflict):
        services.team_join(team=pending, user=user)
    assert TeamJoinRequest.objects.filter(team=pending, user=user).count() == 1


def test_approving_into_a_full_team_is_refused_and_leaves_the_request_pending():
    leader = UserFactory()
    team = services.team_create(actor=leader, name="Two", max_members=2)
    first = services.team_join(team=team, user=UserFactory())
    second = services.team_join(team=team, user=UserFactory())
    services.team_join_request_approve(request=first, actor=leader)
    with pytest.raises(LimitExceeded):
        services.team_join_request_approve(request=second, actor=leader)
    second.refresh_from_db()
    assert second.status == "pending"


def test_leave_kick_and_transfer_leadership():
    leader, member, third = UserFactory(), UserFactory(), UserFactory()
    team = services.team_create(actor=leader, name="Crew", open_team=True)
    services.team_join(team=team, user=member)
    services.team_join(team=team, user=third)
    with pytest.raises(Conflict):
        services.team_leave(team=team, user=leader)
    with pytest.raises(PermissionDenied):
        services.team_kick(team=team, actor=member, user=third)
    services.team_kick(team=team, actor=leader, user=third)
    assert not TeamMember.objects.filter(team=team, user=third).exists()
    with pytest.raises(NotFound):
        services.team_kick(team=team, actor=leader, user=third)
    with pytest.raises(ValidationFailed):
        services.team_transfer_leadership(team=team, actor=leader, to_user=third)
    services.team_transfer_leadership(team=team, actor=leader, to_user=member)
    team.refresh_from_db()
    assert team.leader == member
    assert TeamMember.objects.get(team=team, user=member).role == "leader"
    services.team_leave(team=team, user=leader)
    assert list(TeamMember.objects.filter(team=team).values_list("user", flat=True)) == [member.pk]


def test_profile_update_by_leader_only_and_size_not_below_members():
    leader, member = UserFactory(), UserFactory()
    team = services.team_create(actor=leader, name="Prof", open_team=True)
    services.team_join(team=team, user=member)
    with pytest.raises(PermissionDenied):
        services.team_update_profile(team=team, actor=member, motto="hacked")
    with pytest.raises(Conflict):
        services.team_update_profile(team=team, actor=leader, max_members=1)
    team = services.team_update_profile(team=team, actor=leader, motto="Try harder", country="sg")
    assert team.motto == "Try harder" and team.country == "SG"


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_for_the_last_place_let_exactly_one_in():
    leader = UserFactory()
    team = services.team_create(actor=leader, name="Race", open_team=True, max_members=2)
    joiners = [UserFactory() for _ in range(6)]
    results: list[str] = []
    barrier = threading.Barrier(len(joiners))

    def join(user):
        try:
            barrier.wait()
            services.team_join(team=team, user=user)
            results.append("ok")
        except LimitExceeded:
            results.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(u,)) for u in joiners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["full"] * 5 + ["ok"]
    assert TeamMember.objects.filter(team=team).count() == 2
