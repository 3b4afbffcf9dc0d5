"""Submit validation: is a version complete and consistent enough for an admin to review?

``version_errors`` returns messages per field (``{"questions[0].answer": ["..."]}``); an empty dict
means the version may be submitted. The question and hint schema is checked by
``apps.scenarios.grading.validate_questions``; this module adds what grading cannot see (machines,
networks, images).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from django.utils.translation import gettext as _

from apps.images.models import EgressPolicy
from apps.images.profiles import ResourceProfile
from apps.scenarios.grading import validate_questions
from apps.scenarios.models import ImageSourceType, ScenarioVersion
from apps.scenarios.testing import rules_errors

LOCAL_REGISTRIES = {"localhost", "127.0.0.1", "[::1]"}


def registry_host(image_ref: str) -> str | None:
    """Return the registry host of an image reference, or None for Docker Hub style references.

    As in Docker: the first path component is a host when it contains a dot or a colon or is
    ``localhost``.
    """
    ref = (image_ref or "").strip()
    if "/" not in ref:
        return None
    first = ref.split("/", 1)[0]
    if "." in first or ":" in first or first == "localhost":
        return first.lower()
    return None


def is_local_registry(host: str | None) -> bool:
    """Return True when pulling needs no credential: no registry host at all, or this machine's."""
    if host is None:
        return True
    name = host.split("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]
    return name in LOCAL_REGISTRIES


def _host_of_url(url: str) -> str:
    url = (url or "").strip().lower()
    url = re.sub(r"^[a-z]+://", "", url)
    return url.split("/", 1)[0]


def questions_errors(
    questions,
    hints,
    *,
    scenario_type: str,
    validation_mode: str = "instant",
    machine_names: set[str] | None = None,
) -> dict[str, list[str]]:
    """Return the errors of the question and hint JSON; dynamic flags' machines are checked when names are given."""
    found = validate_questions(questions, hints, scenario_type=scenario_type, validation_mode=validation_mode)
    errors = defaultdict(list, {k: list(v) for k, v in found.items()})
    # Grading is pure domain code and cannot see machines; the link to one is checked here.
    if machine_names is not None and isinstance(questions, list):
        for i, question in enumerate(questions):
            if not (isinstance(question, dict) and question.get("type") == "flag" and question.get("dynamic")):
                continue
            machine = question.get("flag_machine")
            if isinstance(machine, str) and machine.strip() and machine not in machine_names:
                errors[f"questions[{i}].flag_machine"].append(
                    _("No machine of this version is named %(machine)s.") % {"machine": repr(machine)}
                )
    return {field: messages for field, messages in errors.items() if messages}


def _read_only_root_errors(version: ScenarioVersion, machines) -> dict[str, list[str]]:
    """A machine with a read-only root can be given nothing before start: no files, flags, logins or desktop."""
    errors: dict[str, list[str]] = defaultdict(list)
    read_only = {m.pk: (i, m) for i, m in enumerate(machines) if m.read_only_root}
    if not read_only:
        return errors
    writes: dict[int, list[str]] = defaultdict(list)
    for asset in version.assets.filter(machine__in=list(read_only)).exclude(target_path=""):
        writes[asset.machine_id].append(asset.target_path)
    for link in version.asset_links.filter(machine__in=list(read_only)).exclude(target_path=""):
        writes[link.machine_id].append(link.target_path)
    by_name = {m.name: m.pk for _i, m in read_only.values()}
    for question in version.questions if isinstance(version.questions, list) else []:
        if isinstance(question, dict) and question.get("dynamic") and question.get("flag_machine") in by_name:
            writes[by_name[question["flag_machine"]]].append(str(question.get("flag_path") or ""))
    for pk, (i, machine) in read_only.items():
        key, label = f"machines[{i}].read_only_root", _("Machine %(name)s") % {"name": repr(machine.name)}
        if writes[pk]:
            errors[key].append(
                _("%(label)s has a read-only root, so it cannot be given files before start (%(paths)s).")
                % {"label": label, "paths": ", ".join(sorted(p for p in writes[pk] if p))}
            )
        if machine.ssh_username:
            errors[key].append(
                _("%(label)s has a read-only root, so RangeX cannot create its SSH login.") % {"label": label}
            )
        source = machine.image_variant if machine.image_source_type == ImageSourceType.VARIANT else None
        if getattr(source, "has_gui", False):
            errors[key].append(
                _("%(label)s is a desktop, which needs a writable root for its VNC passwords.") % {"label": label}
            )
    return errors


def _machine_errors(version: ScenarioVersion, machines) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    if version.requires_machines and not machines:
        errors["machines"].append(_("This scenario requires machines; add at least one."))
    for name, count in Counter(m.name for m in machines).items():
        if count > 1:
            errors["machines"].append(
                _("The machine name %(name)s is used %(count)s times; names must be unique.")
                % {"name": repr(name), "count": count}
            )
    for i, machine in enumerate(machines):
        key = f"machines[{i}]"
        label = _("Machine %(name)s") % {"name": repr(machine.name)}
        if machine.image_source_type == ImageSourceType.VARIANT:
            if machine.image_variant_id is None:
                errors[f"{key}.image_variant"].append(_("%(label)s: choose an image variant.") % {"label": label})
            elif not machine.image_variant.is_active:
                errors[f"{key}.image_variant"].append(
                    _("%(label)s: the image variant is no longer offered.") % {"label": label}
                )
        elif machine.image_source_type == ImageSourceType.PLATFORM:
            if machine.platform_image_id is None:
                errors[f"{key}.platform_image"].append(_("%(label)s: choose a platform image.") % {"label": label})
            elif not machine.platform_image.is_active:
                errors[f"{key}.platform_image"].append(
                    _("%(label)s: the platform image is no longer offered.") % {"label": label}
                )
        elif machine.image_source_type == ImageSourceType.CUSTOM:
            ref = (machine.image_ref or "").strip()
            if not ref:
                errors[f"{key}.image_ref"].append(
                    _("%(label)s: give the image reference (registry/name:tag).") % {"label": label}
                )
            else:
                host = registry_host(ref)
                if not is_local_registry(host):
                    credential = machine.registry_credential
                    if credential is None:
                        errors[f"{key}.registry_credential"].append(
                            _("%(label)s: the image comes from %(host)s; choose a registry credential for it.")
                            % {"label": label, "host": host}
                        )
                    elif _host_of_url(credential.registry_url) != host:
                        errors[f"{key}.registry_credential"].append(
                            _("%(label)s: the credential is for %(host_of_url)s, but the image comes from %(host)s.")
                            % {"label": label, "host_of_url": _host_of_url(credential.registry_url), "host": host}
                        )
        else:
            errors[f"{key}.image_source_type"].append(_("%(label)s: unknown image source.") % {"label": label})
        if machine.resource_profile not in ResourceProfile.values:
            errors[f"{key}.resource_profile"].append(
                _("%(label)s: the resource profile must be one of %(items)s.")
                % {"label": label, "items": ", ".join(ResourceProfile.values)}
            )
        if machine.network_egress_policy not in EgressPolicy.values:
            errors[f"{key}.network_egress_policy"].append(
                _("%(label)s: the egress policy must be one of %(items)s.")
                % {"label": label, "items": ", ".join(EgressPolicy.values)}
            )
    for field, messages in _read_only_root_errors(version, machines).items():
        errors[field].extend(messages)
    if version.requires_machines and machines and not any(m.allow_solver_entry for m in machines):
        errors["machines"].append(_("At least one machine must allow solver entry, or solvers cannot reach the lab."))
    return errors


def _pivot_errors(version: ScenarioVersion, machines) -> dict[str, list[str]]:
    """Check that pivot points join networks that exist, through a machine on both, and that every
    machine can be reached from a machine solvers enter."""
    errors: dict[str, list[str]] = defaultdict(list)
    groups = {m.network_group for m in machines}
    pivot_groups = {m.network_group for m in machines if m.is_pivot_host}
    links: dict[str, set[str]] = defaultdict(set)
    for i, point in enumerate(version.pivot_points.all()):
        source, target = point.source_network_group, point.target_network_group
        for field in ("source_network_group", "target_network_group"):
            group = getattr(point, field)
            if group not in groups:
                errors[f"pivot_points[{i}].{field}"].append(
                    _("No machine is on the network %(group)s; put a machine on it or remove this pivot point.")
                    % {"group": repr(group)}
                )
        if source == target:
            errors[f"pivot_points[{i}].target_network_group"].append(_("A pivot point links two different networks."))
            continue
        if not pivot_groups & {source, target}:
            # A pivot host is attached to both networks of the pivot points naming its own network; with
            # none on either side, no machine is on both and the far network cannot be reached.
            errors[f"pivot_points[{i}].source_network_group"].append(
                _(
                    "No machine is on both %(source)s and %(target)s: tick “Pivot host” on a machine of one "
                    "of them, or solvers cannot cross to the other network."
                )
                % {"source": repr(source), "target": repr(target)}
            )
            continue
        links[source].add(target)
        links[target].add(source)
    entry = {m.network_group for m in machines if m.allow_solver_entry}
    if not entry:
        return errors
    reached, todo = set(entry), list(entry)
    while todo:
        for nxt in links[todo.pop()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    for i, machine in enumerate(machines):
        if machine.network_group not in reached:
            errors[f"machines[{i}].network_group"].append(
                _(
                    "Machine %(name)s is on the network %(network_group)s, which no machine "
                    "solvers enter can reach; link the networks with a pivot point and a pivot host."
                )
                % {"name": repr(machine.name), "network_group": repr(machine.network_group)}
            )
    return errors


SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,120}$")


def _requirements_errors(version: ScenarioVersion) -> dict[str, list[str]]:
    """Check ``metadata["requirements"]`` (see ``apps.scenarios.prerequisites``)."""
    metadata = version.metadata if isinstance(version.metadata, dict) else {}
    requirements = metadata.get("requirements")
    if requirements is None:
        return {}
    key = "metadata.requirements"
    if not isinstance(requirements, dict):
        return {key: [_("Give {prerequisites: [scenario slugs], anonymize: false}.")]}
    slugs = requirements.get("prerequisites", [])
    if not isinstance(slugs, list) or not all(isinstance(s, str) and SLUG_RE.match(s) for s in slugs):
        return {f"{key}.prerequisites": [_("List the slugs of the scenarios to solve first.")]}
    if version.scenario_id and version.scenario.slug in slugs:
        return {f"{key}.prerequisites": [_("A scenario cannot require itself.")]}
    return {}


def version_errors(version: ScenarioVersion) -> dict[str, list[str]]:
    """Return what stops ``version`` from being submitted, per field."""
    errors: dict[str, list[str]] = dict(_requirements_errors(version))
    if not (version.mission_text or "").strip():
        errors["mission_text"] = [_("Write the mission: it is what solvers read first.")]
    machines = list(
        version.machines.select_related("image_variant", "platform_image", "registry_credential").order_by(
            "sort_order", "name"
        )
    )
    for part in (
        questions_errors(
            version.questions,
            version.hints,
            scenario_type=version.scenario_type,
            validation_mode=version.validation_mode,
            machine_names={m.name for m in machines},
        ),
        _machine_errors(version, machines),
        _pivot_errors(version, machines),
        rules_errors(version),
    ):
        for field, messages in part.items():
            if messages:
                errors.setdefault(field, []).extend(messages)
    return errors
