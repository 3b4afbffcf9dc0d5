"""Storage used by creators' files and the two quotas on it (per creator and platform-wide).

Every upload path (admin, API, bundle and ctfcli imports, the asset library) asks
``storage_quota_refusal`` before it stores a file, so the refusal names the limit the same way.
"""

from __future__ import annotations

from django.db.models import Sum
from django.utils.translation import gettext as _

from apps.scenarios.models import Asset, ScenarioAsset
from rangex.core.system import get_settings


def _mb(n: int) -> str:
    return _("%(value)s MB") % {"value": format(n / (1024 * 1024), ".1f")}


def storage_used(*, owner_id=None, exclude_scenario_asset=None, exclude_asset=None) -> int:
    """Bytes held by version assets and library assets (of one creator when ``owner_id`` is given)."""
    versions = ScenarioAsset.objects.all()
    library = Asset.objects.filter(deleted_from_minio=False)
    if owner_id is not None:
        versions = versions.filter(scenario_version__scenario__created_by_user_id=owner_id)
        library = library.filter(created_by_user_id=owner_id)
    if exclude_scenario_asset is not None:
        versions = versions.exclude(pk=exclude_scenario_asset)
    if exclude_asset is not None:
        library = library.exclude(pk=exclude_asset)
    return (versions.aggregate(t=Sum("file_size"))["t"] or 0) + (library.aggregate(t=Sum("size_bytes"))["t"] or 0)


def storage_used_by_creator(*, limit: int = 5) -> list[dict]:
    """The creators holding the most bytes (version and library files), largest first."""
    totals: dict = {}
    rows = ScenarioAsset.objects.values("scenario_version__scenario__created_by_user__email").annotate(
        t=Sum("file_size")
    )
    for row in rows:
        key = row["scenario_version__scenario__created_by_user__email"]
        totals[key] = totals.get(key, 0) + (row["t"] or 0)
    for row in (
        Asset.objects.filter(deleted_from_minio=False).values("created_by_user__email").annotate(t=Sum("size_bytes"))
    ):
        key = row["created_by_user__email"]
        totals[key] = totals.get(key, 0) + (row["t"] or 0)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:limit]
    return [{"email": email or "(deleted user)", "bytes": n} for email, n in ranked]


def storage_quota_refusal(*, owner_id, add_bytes: int, exclude_scenario_asset=None, exclude_asset=None) -> str | None:
    """Return why ``add_bytes`` more would break a quota, naming it; ``None`` when it fits."""
    conf = get_settings()
    excl = {"exclude_scenario_asset": exclude_scenario_asset, "exclude_asset": exclude_asset}
    per_user = conf.max_storage_per_user_bytes
    if per_user and owner_id is not None:
        used = storage_used(owner_id=owner_id, **excl)
        if used + add_bytes > per_user:
            return _(
                "This file would take the creator's storage over the quota of %(mb)s "
                "(%(mb2)s used; setting: max storage per user)."
            ) % {"mb": _mb(per_user), "mb2": _mb(used)}
    total = conf.max_total_storage_bytes
    if total:
        used = storage_used(**excl)
        if used + add_bytes > total:
            return _(
                "This file would take the platform's storage over its limit of %(mb)s "
                "(%(mb2)s used; setting: max total storage)."
            ) % {"mb": _mb(total), "mb2": _mb(used)}
    return None
