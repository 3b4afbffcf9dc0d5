import uuid

import pytest

from apps.scenarios import selectors
from apps.scenarios.factories import draft_version, published_version
from apps.scenarios.services import scenario_version_update
from rangex.core.errors import NotFound

pytestmark = pytest.mark.django_db


def test_published_content_is_read_once_per_process(django_assert_num_queries):
    version = published_version()
    first = selectors.version_content(version_id=version.pk)
    with django_assert_num_queries(0):
        again = selectors.version_content(version_id=str(version.pk))
    assert again is first and first.questions == version.questions


def test_draft_content_is_read_fresh_every_time():
    version = draft_version()
    assert selectors.version_content(version_id=version.pk).title == version.title
    scenario_version_update(version=version, actor=version.scenario.created_by_user, data={"title": "Renamed draft"})
    assert selectors.version_content(version_id=version.pk).title == "Renamed draft"


@pytest.mark.parametrize("bad", [uuid.uuid4(), "not-a-uuid", None])
def test_missing_or_malformed_versions_are_not_found(bad):
    with pytest.raises(NotFound):
        selectors.version_content(version_id=bad)
