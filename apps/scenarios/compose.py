"""Read a Docker Compose file into a version's topology: machines, network groups and pivot points.

Mapping: each service becomes a machine named after it (image, or a build context noted for an
admin to build; ``ports``/``expose`` -> exposed ports; ``user``; ``read_only``; ``entrypoint`` + ``command``;
``environment``; ``cap_add`` within ``MACHINE_CAPABILITIES``; ``cpus``/``mem_limit``). Each network
becomes a network group (names made valid: lowercase, ``_`` -> ``-``); a service on several
networks becomes a pivot host with pivot points between its networks, and the result is checked to
give every machine exactly the networks the file gives it. ``internal: true`` is kept in
``network_topology`` (every RangeX network is internal unless a machine is allowed outbound
traffic). What cannot be honoured safely (privileged, host mounts, host network/pid/ipc, devices,
unconfined security options, external networks, capabilities outside the list) is refused with
its line; what is merely not used (restart, labels, named volumes, depends_on...) is a warning.

A service may carry ``x-rangex:`` with RangeX fields (role, allow_solver_entry, resource_profile,
variant/platform image...), and the file ``x-rangex: {network_topology, pivot_points}``: that is
what the ctfcli export writes so a topology comes back as it was.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.images.models import ImageVariant, PlatformImage
from apps.scenarios.bundle_io import ImportPlan, YamlDoc
from apps.scenarios.image_builds import context_from_bundle
from apps.scenarios.models import MACHINE_CAPABILITIES, ImageSourceType, Machine, NetworkPivotPoint
from rangex.core.errors import ValidationFailed

DEFAULT_NETWORK = "default"
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
MAX_PORT_RANGE = 32
# RangeX fields a service may carry under x-rangex (the ctfcli export writes them).
SERVICE_EXTRA_FIELDS = (
    "role",
    "allow_solver_entry",
    "is_pivot_host",
    "resource_profile",
    "cpu_cores",
    "memory_mb",
    "disk_gb",
    "ssh_enabled",
    "rdp_enabled",
    "web_enabled",
    "ssh_username",
    "network_egress_policy",
    "sort_order",
)
HANDLED_KEYS = {
    "image",
    "build",
    "ports",
    "expose",
    "user",
    "command",
    "entrypoint",
    "environment",
    "cap_add",
    "cap_drop",
    "networks",
    "cpus",
    "mem_limit",
    "x-rangex",
    "hostname",
    "network_mode",
    "read_only",
}
REFUSED_KEYS = {
    "privileged": "privileged containers can reach the host",
    "devices": "host devices cannot be passed into a lab",
    "device_cgroup_rules": "host devices cannot be passed into a lab",
    "volumes_from": "another container's mounts cannot be shared",
    "cgroup_parent": "labs run in their own cgroup",
}
HOST_MODES = ("pid", "ipc", "uts", "userns_mode", "cgroup")
IGNORED_KEYS = {
    "container_name": "machines are named after their service",
    "depends_on": "all machines of a lab start together",
    "restart": "the lab's lifetime is managed by RangeX",
    "labels": "RangeX sets its own labels",
    "healthcheck": "kept in metadata; not run yet",
    "logging": "RangeX keeps its own logs",
    "stdin_open": "terminals are opened by RangeX",
    "tty": "terminals are opened by RangeX",
    "working_dir": "not supported; set WORKDIR in the image",
    "domainname": "not supported",
    "dns": "labs use the engine's resolver",
    "extra_hosts": "not supported",
    "tmpfs": "not supported",
    "ulimits": "RangeX sets its own limits",
    "sysctls": "kernel settings are not changed for labs",
    "shm_size": "not supported",
    "init": "RangeX always runs an init process",
    "deploy": "RangeX sets resources from the machine's profile",
    "platform": "not supported",
    "pull_policy": "images are pulled by RangeX",
    "stop_signal": "not supported",
    "stop_grace_period": "not supported",
    "env_file": "not read; write the variables under environment",
    "profiles": "every service is started",
    "mem_reservation": "RangeX sets resources from the machine's profile",
}


@dataclass
class ComposeTopology:
    machines: list[Machine] = field(default_factory=list)
    pivot_points: list[NetworkPivotPoint] = field(default_factory=list)
    network_topology: dict[str, Any] = field(default_factory=dict)
    build_contexts: dict[str, str] = field(default_factory=dict)


def networks_of(machine, pivot_points) -> list[str]:
    """Return the network groups of ``machine``: its own, plus every group a pivot host bridges to."""
    groups = [machine.network_group]
    if machine.is_pivot_host:
        for point in pivot_points:
            ends = {point.source_network_group, point.target_network_group}
            if machine.network_group in ends:
                groups.extend(sorted(ends - {machine.network_group}))
    return list(dict.fromkeys(groups))


def group_name(raw: str) -> str:
    """Return a network or machine name RangeX accepts, made from a Compose name."""
    return re.sub(r"[^a-z0-9-]", "-", str(raw).lower()).strip("-")[:32].strip("-")


def _ports(doc: YamlDoc, service: str, raw: Any, at: str, *, expose: bool) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if not isinstance(raw, list):
        doc.add(at, _("List the ports."))
        return found
    for i, item in enumerate(raw):
        where = f"{at}[{i}]"
        protocol = "tcp"
        published = None
        if isinstance(item, dict):
            target, protocol, published = item.get("target"), item.get("protocol", "tcp"), item.get("published")
            targets = [target] if isinstance(target, int) and not isinstance(target, bool) else None
        elif isinstance(item, int | str) and not isinstance(item, bool):
            text = str(item)
            text, _sep, proto = text.partition("/")
            protocol = proto or "tcp"
            parts = text.rsplit(":", 1)
            if len(parts) == 2:
                published = parts[0]
            targets = _port_range(parts[-1])
        else:
            targets = None
        if not targets or protocol not in ("tcp", "udp", "sctp"):
            doc.add(where, _('Give a port as 80, "8080:80", "80/udp" or {target: 80}.'))
            continue
        if published not in (None, "") and not expose:
            doc.warn(
                where,
                _("the host port %(published)s is not published: solvers reach %(service)s:%(value)s inside the lab.")
                % {"published": published, "service": service, "value": targets[0]},
            )
        for port in targets:
            entry = {"port": port, "protocol": protocol}
            if entry not in found:
                found.append(entry)
    return found


def _port_range(text: str) -> list[int] | None:
    first, _sep, last = text.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    low, high = int(first), int(last or first)
    if not 1 <= low <= high <= 65535 or high - low >= MAX_PORT_RANGE:
        return None
    return list(range(low, high + 1))


def _command(doc: YamlDoc, raw: Any, at: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            return shlex.split(raw)
        except ValueError:
            doc.add(at, _("The command's quotes do not match."))
            return []
    if isinstance(raw, list) and all(isinstance(p, str | int | float) and not isinstance(p, bool) for p in raw):
        return [str(p) for p in raw]
    doc.add(at, _("Give the command as text or a list of words."))
    return []


def _environment(doc: YamlDoc, raw: Any, at: str) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        env = {}
        for i, item in enumerate(raw):
            if not isinstance(item, str):
                doc.add(f"{at}[{i}]", _("Give a variable as NAME=value."))
                continue
            name, _sep, value = item.partition("=")
            env[name] = value
        return env
    doc.add(at, _("Give the environment as a mapping or a list of NAME=value."))
    return {}


def _volumes(doc: YamlDoc, raw: Any, at: str) -> None:
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        where = f"{at}[{i}]"
        if isinstance(item, dict):
            kind, source = item.get("type", "volume"), str(item.get("source") or "")
        else:
            source = str(item).split(":", 1)[0] if ":" in str(item) else ""
            kind = "bind" if source.startswith(("/", ".", "~", "$")) else "volume"
        if kind == "bind" or source.startswith(("/", ".", "~", "$")):
            doc.add(
                where,
                _("Host mounts are refused: a lab never sees the host's files (%(value)s).")
                % {"value": source or item},
            )
        elif kind == "tmpfs":
            doc.warn(where, _("tmpfs mounts are not supported; dropped."))
        else:
            doc.warn(where, _("named volumes are not kept: each lab starts from the image's files; dropped."))
    if not isinstance(raw, list):
        doc.add(at, _("List the volumes."))


def _service_networks(doc: YamlDoc, raw: Any, at: str, known: dict[str, str]) -> list[str]:
    if raw is None:
        return [DEFAULT_NETWORK]
    names: list[str] = []
    if isinstance(raw, list):
        items = [(i, n, None) for i, n in enumerate(raw)]
    elif isinstance(raw, dict):
        items = [(n, n, v) for n, v in raw.items()]
    else:
        doc.add(at, _("List the networks of the service."))
        return [DEFAULT_NETWORK]
    for key, name, options in items:
        where = f"{at}.{key}" if isinstance(raw, dict) else f"{at}[{key}]"
        if str(name) not in known and str(name) != DEFAULT_NETWORK:
            doc.add(where, _("The network %(name)s is not declared under the file's networks.") % {"name": repr(name)})
            continue
        if isinstance(options, dict) and options:
            doc.warn(
                where,
                _("network options %(items)s are not supported; dropped.")
                % {"items": ", ".join(sorted(map(str, options)))},
            )
        names.append(known.get(str(name), DEFAULT_NETWORK))
    return list(dict.fromkeys(names)) or [DEFAULT_NETWORK]


def _apply_extra(doc: YamlDoc, machine: Machine, extra: Any, at: str) -> None:
    if extra is None:
        return
    if not isinstance(extra, dict):
        doc.add(at, _("x-rangex holds RangeX machine fields as a mapping."))
        return
    for key, value in extra.items():
        if key in SERVICE_EXTRA_FIELDS:
            if key == "cpu_cores" and value is not None:
                try:
                    value = Decimal(str(value))
                except InvalidOperation:
                    doc.add(f"{at}.{key}", _("Give a number of CPU cores."))
                    continue
            setattr(machine, key, value)
        elif key == "variant":
            found = ImageVariant.objects.filter(display_name=value).first()
            if found is None:
                doc.add(
                    f"{at}.variant",
                    _("No image variant named %(value)s exists on this platform.") % {"value": repr(value)},
                )
            else:
                machine.image_source_type, machine.image_variant, machine.image_ref = ImageSourceType.VARIANT, found, ""
        elif key == "platform":
            found = PlatformImage.objects.filter(label=value).first()
            if found is None:
                doc.add(
                    f"{at}.platform",
                    _("No platform image labelled %(value)s exists on this platform.") % {"value": repr(value)},
                )
            else:
                machine.image_source_type, machine.platform_image, machine.image_ref = (
                    ImageSourceType.PLATFORM,
                    found,
                    "",
                )
        else:
            doc.warn(f"{at}.{key}", _("unknown RangeX machine field; dropped."))


def _service(
    doc: YamlDoc,
    name: str,
    svc: Any,
    *,
    slug: str,
    known: dict[str, str],
    topology: ComposeTopology,
    files=None,
    base: str = "",
):
    at = f"services.{name}"
    if not isinstance(svc, dict):
        doc.add(at, _("A service is a mapping (image, ports, networks...)."))
        return None, []
    machine_name = group_name(name)
    if not NAME_RE.match(machine_name):
        doc.add(at, _("The service name needs letters or digits to make a machine name from."))
        return None, []
    if machine_name != name:
        doc.warn(
            at,
            _("the machine is named %(machine_name)s (RangeX names are lowercase, with hyphens).")
            % {"machine_name": repr(machine_name)},
        )
    for key in sorted(set(svc) - HANDLED_KEYS, key=str):
        where = f"{at}.{key}"
        if key in REFUSED_KEYS:
            if key == "privileged" and svc[key] is False:
                continue
            doc.add(where, _("Refused: %(value)s.") % {"value": REFUSED_KEYS[key]})
        elif key in HOST_MODES:
            if str(svc[key]) == "host" or str(svc[key]).startswith(("container:", "service:")):
                doc.add(
                    where,
                    _("Refused: %(key)s: %(value)s shares the host's or another container's namespace.")
                    % {"key": key, "value": svc[key]},
                )
            else:
                doc.warn(where, _("not supported; dropped."))
        elif key == "security_opt":
            options = svc[key] if isinstance(svc[key], list) else [svc[key]]
            if any("unconfined" in str(o) or str(o).startswith(("seccomp", "apparmor", "label")) for o in options):
                doc.add(where, _("Refused: labs always run with the default seccomp and AppArmor profiles."))
            else:
                doc.warn(where, _("not supported; labs always run with no-new-privileges; dropped."))
        elif key == "volumes":
            _volumes(doc, svc[key], where)
        elif key in IGNORED_KEYS:
            doc.warn(where, _("%(value)s; dropped.") % {"value": IGNORED_KEYS[key]})
        else:
            doc.warn(where, _("unknown or unsupported Compose key; dropped."))
    mode = svc.get("network_mode")
    if mode is not None:
        if str(mode) == "host" or str(mode).startswith(("container:", "service:")):
            doc.add(
                f"{at}.network_mode",
                _("Refused: network_mode %(mode)s would leave the lab's private networks.") % {"mode": mode},
            )
        elif str(mode) == "none":
            doc.warn(f"{at}.network_mode", _("a machine without a network is put on a network of its own."))
        else:
            doc.warn(f"{at}.network_mode", _("not supported; the service's networks are used."))
    machine = Machine(name=machine_name, role="victim", image_source_type=ImageSourceType.CUSTOM)
    image, build = svc.get("image"), svc.get("build")
    if build is not None:
        context = build.get("context", ".") if isinstance(build, dict) else build
        if not isinstance(context, str) or not context.strip():
            doc.add(f"{at}.build", _("Give the build context as a folder path."))
        else:
            tag = f"rangex-import/{slug}-{machine_name}:latest"[:255]
            machine.image_ref = tag
            topology.build_contexts[machine_name] = context
            if not _attach_build(doc, machine, context, at, files=files, base=base):
                doc.warn(
                    f"{at}.build",
                    f"the folder {context!r} is not in the upload: build it and tag it {tag} on the engine "
                    "before publishing" + (f" (the image name {image!r} is kept as a note)." if image else "."),
                )
    elif isinstance(image, str) and image.strip() and len(image.strip()) <= 255:
        machine.image_ref = image.strip()
    else:
        doc.add(f"{at}.image", _("Give the service's image (registry/name:tag) or a build context."))
    ports = []
    if "ports" in svc:
        ports += _ports(doc, machine_name, svc["ports"], f"{at}.ports", expose=False)
    if "expose" in svc:
        ports += [p for p in _ports(doc, machine_name, svc["expose"], f"{at}.expose", expose=True) if p not in ports]
    machine.exposed_ports = ports
    machine.web_enabled = any(p["port"] in (80, 443, 8000, 8080) for p in ports)
    if svc.get("user") is not None:
        machine.run_as_user = str(svc["user"])
    if "read_only" in svc:
        if isinstance(svc["read_only"], bool):
            machine.read_only_root = svc["read_only"]
        else:
            doc.add(f"{at}.read_only", _("Give true or false."))
    entry = _command(doc, svc.get("entrypoint"), f"{at}.entrypoint")
    if entry:
        doc.warn(f"{at}.entrypoint", _("RangeX sets only the command: the entrypoint is run as the command's start."))
    machine.entrypoints = entry + _command(doc, svc.get("command"), f"{at}.command")
    machine.environment_vars = _environment(doc, svc.get("environment"), f"{at}.environment")
    caps = svc.get("cap_add") or []
    if not isinstance(caps, list):
        doc.add(f"{at}.cap_add", _("List the capabilities."))
        caps = []
    for i, cap in enumerate(caps):
        normal = str(cap).upper().removeprefix("CAP_")
        if normal not in MACHINE_CAPABILITIES:
            doc.add(
                f"{at}.cap_add[{i}]",
                _("Refused: the capability %(cap)s is not in the allowed list (%(items)s).")
                % {"cap": cap, "items": ", ".join(sorted(MACHINE_CAPABILITIES))},
            )
    machine.capabilities = [str(c).upper().removeprefix("CAP_") for c in caps]
    if svc.get("cpus") is not None:
        try:
            machine.cpu_cores = Decimal(str(svc["cpus"]))
        except InvalidOperation:
            doc.add(f"{at}.cpus", _("Give a number of CPUs."))
    if svc.get("mem_limit") is not None:
        machine.memory_mb = _megabytes(doc, svc["mem_limit"], f"{at}.mem_limit")
    hostname = svc.get("hostname")
    if hostname is not None and str(hostname) != machine_name:
        doc.warn(
            f"{at}.hostname",
            _("the machine's hostname is its name, %(machine_name)s.") % {"machine_name": repr(machine_name)},
        )
    _apply_extra(doc, machine, svc.get("x-rangex"), f"{at}.x-rangex")
    if str(mode) == "none":
        return machine, [machine_name]
    return machine, _service_networks(doc, svc.get("networks"), f"{at}.networks", known)


def _megabytes(doc: YamlDoc, raw: Any, at: str) -> int | None:
    match = re.fullmatch(r"(\d+)\s*([bkmg]?)b?", str(raw).strip().lower())
    if not match:
        doc.add(at, _("Give a memory size such as 256m or 1g."))
        return None
    number, unit = int(match.group(1)), match.group(2)
    factor = {"": 1 / (1024 * 1024), "b": 1 / (1024 * 1024), "k": 1 / 1024, "m": 1, "g": 1024}[unit]
    return max(1, int(number * factor))


def _networks(doc: YamlDoc, raw: Any, topology: ComposeTopology) -> dict[str, str]:
    known: dict[str, str] = {}
    if raw is None:
        return known
    if not isinstance(raw, dict):
        doc.add("networks", _("Declare the networks as a mapping."))
        return known
    for name, options in raw.items():
        at = f"networks.{name}"
        group = group_name(name)
        if not NAME_RE.match(group):
            doc.add(at, _("The network name needs letters or digits to make a network group name from."))
            continue
        if group in known.values():
            doc.add(at, _("Another network also becomes the group %(group)s; rename one.") % {"group": repr(group)})
            continue
        if group != name:
            doc.warn(
                at,
                _("the network group is named %(group)s (RangeX names are lowercase, with hyphens).")
                % {"group": repr(group)},
            )
        known[str(name)] = group
        options = options or {}
        if not isinstance(options, dict):
            doc.add(at, _("A network's options are a mapping."))
            continue
        if options.get("external"):
            doc.add(f"{at}.external", _("Refused: a lab cannot join a network outside it."))
        internal = options.get("internal", False)
        if not isinstance(internal, bool):
            doc.add(f"{at}.internal", _("Use true or false."))
        elif not internal:
            doc.warn(
                at,
                _(
                    "not internal in the Compose file; RangeX lab networks have no outbound traffic unless a "
                    "machine's egress policy allows it."
                ),
            )
        topology.network_topology.setdefault("networks", {})[group] = {"internal": bool(internal)}
        for key in sorted(set(options) - {"internal", "external"}, key=str):
            doc.warn(f"{at}.{key}", _("network option not supported; dropped."))
    return known


def _pivots(doc: YamlDoc, machines: list[Machine], declared: dict[str, list[str]], given: Any) -> list:
    """Return pivot points that give every machine exactly the networks the file declares."""
    multi = [m for m in machines if len(declared[m.name]) > 1]
    if given is not None:
        if not isinstance(given, list) or not all(isinstance(p, dict) for p in given):
            doc.add("x-rangex.pivot_points", _("List the pivot points as {source, target, description}."))
            return []
        points = [
            NetworkPivotPoint(
                source_network_group=str(p.get("source") or ""),
                target_network_group=str(p.get("target") or ""),
                description=str(p.get("description") or ""),
            )
            for p in given
        ]
        for machine in machines:
            machine.network_group = declared[machine.name][0]
        if _reachability_ok(machines, points, declared):
            return points
        doc.add("x-rangex.pivot_points", _("These pivot points do not give the services the networks they list."))
        return []
    choices = [list(declared[m.name]) for m in multi]
    for combo in itertools.islice(itertools.product(*choices), 4096):
        points: list[NetworkPivotPoint] = []
        seen: set[frozenset[str]] = set()
        for machine, primary in zip(multi, combo, strict=True):
            machine.network_group, machine.is_pivot_host = primary, True
            for other in declared[machine.name]:
                pair = frozenset((primary, other))
                if other != primary and pair not in seen:
                    seen.add(pair)
                    points.append(NetworkPivotPoint(source_network_group=primary, target_network_group=other))
        for machine in machines:
            if machine not in multi:
                machine.network_group = declared[machine.name][0]
        if _reachability_ok(machines, points, declared):
            for point in points:
                point.description = "From the Compose file: services on both networks."
            return points
    names = ", ".join(f"{m.name} ({', '.join(declared[m.name])})" for m in multi)
    doc.add(
        "services",
        _("These services' networks cannot be expressed as RangeX pivot points: %(names)s.") % {"names": names},
    )
    return []


def _reachability_ok(machines: list[Machine], points, declared: dict[str, list[str]]) -> bool:
    return all(set(networks_of(m, points)) == set(declared[m.name]) for m in machines)


def _attach_build(doc: YamlDoc, machine: Machine, context: str, at: str, *, files, base: str) -> bool:
    """Give ``machine`` the build context folder of the upload (checked as bundles are); False when absent."""
    folder = posixpath.normpath(posixpath.join(base, context.strip()))
    if files is None or folder in ("", ".") or not any(name.startswith(folder + "/") for name in files):
        return False
    try:
        machine.planned_build_files = context_from_bundle(files, folder, where=f"{doc.filename}, {at}.build")
    except ValidationFailed as exc:
        doc.add(f"{at}.build", exc.message)
        return True
    doc.warn(
        f"{at}.build",
        _("the image is built from %(folder)s by the image pipeline (the version's Build images).")
        % {"folder": repr(folder)},
    )
    return True


def plan_compose(doc: YamlDoc, *, slug: str, files=None, base: str = "") -> ComposeTopology:
    """Check a Compose file and return the machines, pivot points and network topology it describes.

    With the upload's ``files``, a service's ``build:`` folder found in them (relative to ``base``,
    the Compose file's folder) becomes the machine's build context.
    """
    topology = ComposeTopology()
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict) or not data["services"]:
        doc.add("services" if isinstance(data, dict) else "", _("A Compose file lists its services under services."))
        return topology
    for key in sorted(set(data) - {"services", "networks", "version", "name", "x-rangex"}, key=str):
        doc.warn(key, _("top-level Compose key not supported; dropped."))
    extra = data.get("x-rangex") if isinstance(data.get("x-rangex"), dict) else {}
    known = _networks(doc, data.get("networks"), topology)
    declared: dict[str, list[str]] = {}
    for name, svc in data["services"].items():
        machine, networks = _service(
            doc, str(name), svc, slug=slug, known=known, topology=topology, files=files, base=base
        )
        if machine is None:
            continue
        if machine.name in declared:
            doc.add(f"services.{name}", _("Another service is also named %(name)s.") % {"name": repr(machine.name)})
            continue
        if "sort_order" not in (svc.get("x-rangex") or {} if isinstance(svc, dict) else {}):
            machine.sort_order = len(topology.machines)
        declared[machine.name] = networks
        topology.machines.append(machine)
        if DEFAULT_NETWORK in networks:
            topology.network_topology.setdefault("networks", {}).setdefault(DEFAULT_NETWORK, {"internal": False})
    if doc.errors:
        return topology
    topology.pivot_points = _pivots(doc, topology.machines, declared, extra.get("pivot_points"))
    for machine in topology.machines:
        try:
            machine.full_clean(exclude=["scenario_version", "image_variant", "platform_image"], validate_unique=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    doc.add(f"services.{machine.name}.{name}", message)
    if "network_topology" in extra:
        topology.network_topology = extra["network_topology"]
    else:
        topology.network_topology["source"] = "docker-compose"
    if not any(m.allow_solver_entry for m in topology.machines):
        doc.warn(
            "services",
            _("no machine allows solver entry; choose one (or add an attacker machine) before submitting."),
        )
    return topology


def plan_compose_scenario(path: str, files: dict[str, bytes], *, limits) -> ImportPlan:
    """Plan an open lab from a Compose file alone: its services, networks and pivots, no questions."""
    doc = YamlDoc(files[path], filename=path, limits=limits)
    data = doc.data if isinstance(doc.data, dict) else {}
    folder = posixpath.basename(posixpath.dirname(path))
    name = str(data.get("name") or folder or "compose-lab").strip()
    slug = slugify(name)[:120].strip("-") or "compose-lab"
    topology = plan_compose(doc, slug=slug, files=files, base=posixpath.dirname(path))
    doc.raise_if_errors()
    fields = {
        "title": name[:160],
        "short_description": f"A lab of {len(topology.machines)} machines imported from {posixpath.basename(path)}.",
        "category": "lab",
        "scenario_type": "open_lab",
        "requires_machines": True,
        "mission_text": "Explore the lab. (Imported from a Compose file: write the mission before submitting.)",
        "metadata": {"imported_from": "docker-compose"},
        "network_topology": topology.network_topology,
        "docker_compose_path": path,
        "questions": [],
        "hints": [],
    }
    return ImportPlan(
        slug=slug,
        version_fields=fields,
        machines=topology.machines,
        pivot_points=topology.pivot_points,
        assets=[],
        cover=None,
        source_format="compose",
        source_file=path,
        name=name,
        warnings=doc.warnings,
    )
