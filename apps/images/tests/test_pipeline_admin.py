"""The image pipeline in the admin: stages for everyone who may see them, decisions for admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.images.models import ImagePipelineStage
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db
Status = ImagePipelineStage.Status


def _waiting(creator, tag: str = "a" * 32) -> ImagePipelineStage:
    # As the build task leaves it: built, staged, in review.
    now = timezone.now()
    return ImagePipelineStage.objects.create(
        image_name="rangex/built",
        image_tag=tag,
        machine_name="web",
        creator_user=creator,
        status=Status.AWAITING_APPROVAL,
        current_stage=ImagePipelineStage.Stage.IN_REVIEW,
        local_built_at=now,
        staging_uploaded_at=now,
        review_started_at=now,
        log="Step 1/2 : FROM rangex/busybox:latest\n",
    )


def test_an_admin_approves_from_the_change_page_and_it_is_audited(admin_client_2fa, admin_user, creator):
    stage = _waiting(creator)
    page = admin_client_2fa.get(reverse("admin:images_imagepipelinestage_change", args=[stage.pk]))
    assert b"Approve and push to production" in page.content
    assert b"Step 1/2 : FROM rangex/busybox:latest" in page.content
    response = admin_client_2fa.post(
        reverse("admin:images_imagepipelinestage_decide", args=[stage.pk, "approve"]), follow=True
    )
    assert b"approved; pushing to production" in response.content
    stage.refresh_from_db()
    assert stage.status == Status.DEPLOYING and stage.approver_user == admin_user
    assert AuditLog.objects.filter(action_type="image_pipeline.approve", user=admin_user).count() == 1


def test_a_creator_sees_their_own_image_but_cannot_approve_it(creator_client, creator):
    stage = _waiting(creator)
    page = creator_client.get(reverse("admin:images_imagepipelinestage_change", args=[stage.pk]))
    assert page.status_code == 200
    assert b"Approve and push to production" not in page.content
    response = creator_client.post(
        reverse("admin:images_imagepipelinestage_decide", args=[stage.pk, "approve"]), follow=True
    )
    assert b"Only admins approve or reject images" in response.content
    stage.refresh_from_db()
    assert stage.status == Status.AWAITING_APPROVAL


def test_a_rejection_needs_a_reason(admin_client_2fa, creator):
    stage = _waiting(creator)
    url = reverse("admin:images_imagepipelinestage_decide", args=[stage.pk, "reject"])
    response = admin_client_2fa.post(url, {"reason": " "}, follow=True)
    assert b"Say why the image is rejected" in response.content
    admin_client_2fa.post(url, {"reason": "Runs a crypto miner."})
    stage.refresh_from_db()
    assert stage.status == Status.REJECTED and "crypto miner" in stage.error_message


def test_the_list_costs_a_fixed_number_of_queries(admin_client_2fa, creator, django_assert_max_num_queries):
    for i in range(5):
        _waiting(creator, tag=f"{i:032d}")
    with django_assert_max_num_queries(12):
        response = admin_client_2fa.get(reverse("admin:images_imagepipelinestage_changelist"))
    assert response.status_code == 200
