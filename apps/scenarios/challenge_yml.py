"""Read CTFd/ctfcli ``challenge.yml`` files into an import plan, keeping every key of the spec.

Mapping (ctfcli key -> RangeX):

- ``name`` -> title (and the slug); ``author`` -> creator name; ``category``; ``description`` ->
  mission text (and the short description's first paragraph); ``attribution``, ``host``, ``next``,
  ``module``, ``scheduled_at``, ``logic``, ``version`` -> ``metadata["ctfd"]`` (kept, exported
  again; those RangeX does not act on are named in the report's warnings).
- ``value`` / ``type: dynamic`` + ``extra.initial/decay/minimum/function`` -> the question's points
  and its ``scoring`` (see ``apps.scenarios.grading``); a plugin type (``container``...) is imported
  as standard, or dynamic when ``extra`` holds the dynamic values, with a warning.
- ``flags`` -> the question's list of typed flags; ``attempts`` -> its ``max_attempts``.
- ``hints`` (text, or content/cost/title/key/requirements) -> hints with cost, title and ``requires``.
- ``topics`` -> ``metadata["topics"]``; ``tags`` -> tags.
- ``requirements`` (names, ids, or ``{prerequisites, anonymize}``) -> ``metadata["requirements"]``:
  scenario slugs a solver must have solved first (resolved by ``apps.scenarios.imports``).
- ``state`` -> ``metadata["ctfd"]["state"]``, ctfcli's default ``visible`` when left out; every
  import is a DRAFT that goes through review whatever the state says.
- ``image`` -> a machine (a registry reference, or a build context an admin must build);
  ``connection_info`` and ``protocol`` -> its exposed port and access method (web, SSH, TCP).
  A ``docker-compose.yml`` next to the file describes the machines instead (``apps.scenarios.compose``).
- ``healthcheck`` -> ``metadata["healthcheck"]``; ``solution`` -> the solution writeup (the file's text).
- ``files`` -> downloads, resolved next to the given file (in a folder, a zip, or on disk).
- ``x-rangex`` -> the RangeX fields ctfcli has no key for (written by the ctfcli export).

Unknown or misspelt keys are reported with their line ("did you mean ...?") and dropped.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.scenarios.bundle_io import (
    COMPOSE_NAMES,
    BundleLimits,
    ImportPlan,
    PlannedFile,
    YamlDoc,
    safe_relative,
)
from apps.scenarios.bundles import ASSET_FIELDS, _check_target_path, _clean_model, _planned_file
from apps.scenarios.compose import plan_compose
from apps.scenarios.grading import DECAY_FUNCTIONS, ID_RE, regex_problem
from apps.scenarios.image_builds import check_context_files, context_from_bundle
from apps.scenarios.models import AdminTestValidation, ImageSourceType, Machine, ScenarioAsset, ScenarioVersion
from rangex.core.errors import ValidationFailed

SPEC_KEYS = (
    "name", "author", "category", "description", "attribution", "value", "type", "extra", "image", "protocol",
    "host", "connection_info", "healthcheck", "solution", "attempts", "logic", "flags", "topics", "tags", "files",
    "hints", "requirements", "next", "scheduled_at", "module", "state", "version", "x-rangex",
)  # fmt: skip
# ctfcli keys kept as they are in metadata["ctfd"], so an export writes them back.
KEPT_KEYS = ("attribution", "protocol", "host", "connection_info", "logic", "next", "module", "scheduled_at", "version")
NOT_USED = {
    "host": "a deployment target: RangeX runs the lab itself",
    "next": "RangeX suggests no next challenge",
    "module": "RangeX has no CTFd modules",
    "scheduled_at": "RangeX publishes after review, not at a set time",
}
# RangeX version fields ctfcli has no key for; the export writes them under x-rangex.
EXTRA_VERSION_FIELDS = (
    "short_description", "difficulty", "estimated_minutes", "scenario_type", "code_of_ethics", "learning_outcomes",
    "validation_mode", "scoring_mode", "hint_mode", "requires_machines", "network_topology", "docker_compose_path",
    "solver_writeup",
)  # fmt: skip
# Keys other platforms use for a ctfcli key, so the warning suggests the right one.
ALIASES = {"points": "value", "score": "value", "flag": "flags", "hint": "hints", "tag": "tags", "file": "files"}
DEFAULT_QUESTION = {"id": "flag", "prompt": "Submit the flag."}
CONNECTION_LABEL = "**Connection:**"
WEB_PORTS = {"http": 80, "https": 443}


def connection_suffix(connection_info: str) -> str:
    """Return what an import appends to the mission so solvers see how to connect."""
    return f"\n\n{CONNECTION_LABEL} `{connection_info}`"


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _unknown_keys(doc: YamlDoc, data: dict) -> None:
    for key in data:
        if key in SPEC_KEYS:
            continue
        close = [ALIASES[key]] if key in ALIASES else difflib.get_close_matches(str(key), SPEC_KEYS, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        doc.warn(str(key), _("unknown key, not in the ctfcli spec; dropped.%(hint)s") % {"hint": hint})


def _flags(doc: YamlDoc, raw: Any) -> list[dict[str, Any]]:
    flags = []
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        doc.add("flags", _("Flags must be a list."))
        return flags
    for i, flag in enumerate(raw):
        at = f"flags[{i}]"
        if isinstance(flag, str | int) and not isinstance(flag, bool):
            content, ftype, data = str(flag), "static", ""
        elif isinstance(flag, dict):
            content, ftype, data = flag.get("content"), flag.get("type", "static"), flag.get("data") or ""
            for key in sorted(set(flag) - {"content", "type", "data"}, key=str):
                doc.warn(f"{at}.{key}", _("unknown flag key; dropped."))
        else:
            doc.add(at, _("A flag is text or a mapping with type, content and data."))
            continue
        if not isinstance(content, str) or not content.strip():
            doc.add(f"{at}.content" if isinstance(flag, dict) else at, _("The flag is empty."))
            continue
        if data not in ("", "case_insensitive", "case_sensitive"):
            doc.add(f"{at}.data", _("Use case_sensitive or case_insensitive."))
            continue
        if ftype == "regex":
            problem = regex_problem(content)
            if problem:
                doc.add(f"{at}.content", problem)
                continue
        elif ftype != "static":
            doc.add(f"{at}.type", _("Unknown flag type %(ftype)s; use static or regex.") % {"ftype": repr(ftype)})
            continue
        flags.append({"type": ftype, "content": content, "case_insensitive": data == "case_insensitive"})
    if not raw:
        doc.add("flags", _("Give at least one flag."))
    return flags


def _scoring(doc: YamlDoc, data: dict, ctype: str) -> tuple[int, dict | None]:
    """Return the question's points and its dynamic scoring (None when static)."""
    extra = data.get("extra")
    if extra is not None and not isinstance(extra, dict):
        doc.add("extra", _("extra must be a mapping."))
        extra = {}
    extra = extra or {}
    dynamic_keys = {"initial", "decay", "minimum"}
    dynamic = ctype == "dynamic" or (ctype not in ("standard",) and dynamic_keys <= set(extra))
    value = data.get("value")
    if not dynamic:
        for key in sorted(extra, key=str):
            doc.warn(f"extra.{key}", _("not understood for a %(ctype)s challenge; dropped.") % {"ctype": ctype})
        points = _int(value) if value is not None else 0
        if points is None or points < 0:
            doc.add("value", _("Give whole points."))
            points = 0
        return points, None
    scoring: dict[str, Any] = {"function": extra.get("function", "logarithmic")}
    if scoring["function"] not in DECAY_FUNCTIONS:
        doc.add("extra.function", _("Use one of: %(items)s.") % {"items": ", ".join(DECAY_FUNCTIONS)})
    for key in ("initial", "decay", "minimum"):
        number = _int(extra.get(key))
        if number is None or number < 0:
            doc.add(
                f"extra.{key}" if "extra" in data else "type",
                _("A dynamic challenge needs extra.%(key)s (whole points).") % {"key": key},
            )
            number = 0
        scoring[key] = number
    if scoring["minimum"] > scoring["initial"]:
        doc.add("extra.minimum", _("The minimum cannot be above the initial value."))
    if value is not None and _int(value) != scoring["initial"]:
        doc.warn(
            "value",
            _("a dynamic challenge is worth extra.initial (%(initial)s), as in CTFd; value ignored.")
            % {"initial": scoring["initial"]},
        )
    for key in sorted(set(extra) - dynamic_keys - {"function"}, key=str):
        doc.warn(f"extra.{key}", _("not understood; dropped."))
    return scoring["initial"], scoring


def _hints(doc: YamlDoc, raw: Any, question_id: str) -> list[dict[str, Any]]:
    hints: list[dict[str, Any]] = []
    if raw is None:
        return hints
    if not isinstance(raw, list):
        doc.add("hints", _("Hints must be a list."))
        return hints
    for i, hint in enumerate(raw):
        at = f"hints[{i}]"
        entry: dict[str, Any] = {"id": f"h{i + 1}", "question_id": question_id}
        if isinstance(hint, str):
            entry.update(text=hint.strip(), cost=0)
        elif isinstance(hint, dict):
            for key in sorted(set(hint) - {"content", "cost", "title", "key", "requirements"}, key=str):
                doc.warn(f"{at}.{key}", _("unknown hint key; dropped."))
            cost = hint.get("cost", 0) or 0
            if _int(cost) is None or _int(cost) < 0:
                doc.add(f"{at}.cost", _("Give the hint's cost in whole points."))
                continue
            content = hint.get("content")
            entry.update(text=content.strip() if isinstance(content, str) else "", cost=_int(cost))
            key = hint.get("key")
            if key is not None:
                if isinstance(key, str) and ID_RE.match(key):
                    entry["id"] = key
                else:
                    doc.add(f"{at}.key", _("Use 1 to 64 letters, digits, '-' or '_' as a hint key."))
            if hint.get("title"):
                entry["title"] = str(hint["title"])
            if hint.get("requirements"):
                entry["requires"] = hint["requirements"]
        else:
            doc.add(at, _("A hint is text or a mapping with content and cost."))
            continue
        if not entry["text"]:
            doc.add(f"{at}.content" if isinstance(hint, dict) else at, _("The hint is empty."))
            continue
        hints.append(entry)
    ids = [h["id"] for h in hints]
    for i, hint in enumerate(hints):
        if ids.count(hint["id"]) > 1:
            doc.add(f"hints[{i}].key", _("Another hint has the key %(id)s.") % {"id": repr(hint["id"])})
        requires = hint.get("requires")
        if requires is None:
            continue
        if not isinstance(requires, list):
            doc.add(f"hints[{i}].requirements", _("List the keys of the hints to unlock first."))
            continue
        kept = [str(r) for r in requires if str(r) in ids and str(r) != hint["id"]]
        for name in [r for r in requires if str(r) not in kept]:
            doc.warn(
                f"hints[{i}].requirements",
                _("no other hint has the key %(name)s; requirement dropped.") % {"name": repr(name)},
            )
        if kept:
            hint["requires"] = kept
        else:
            del hint["requires"]
    return hints


def _strings(doc: YamlDoc, raw: Any, key: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        doc.add(key, _("%(capitalize)s must be a list.") % {"capitalize": key.capitalize()})
        return []
    values = []
    for i, item in enumerate(raw):
        item = item.get("value") if isinstance(item, dict) else item
        if not isinstance(item, str | int) or isinstance(item, bool):
            doc.add(f"{key}[{i}]", _("Give text."))
            continue
        values.append(str(item))
    return values


def _requirements(doc: YamlDoc, raw: Any) -> tuple[list[Any], bool]:
    anonymize = False
    if raw is None:
        return [], False
    if isinstance(raw, dict):
        for key in sorted(set(raw) - {"prerequisites", "anonymize"}, key=str):
            doc.warn(f"requirements.{key}", _("unknown key; dropped."))
        anonymize = raw.get("anonymize", False)
        if not isinstance(anonymize, bool):
            doc.add("requirements.anonymize", _("Use true or false."))
        raw = raw.get("prerequisites") or []
    if not isinstance(raw, list):
        doc.add("requirements", _("List the challenges to solve first, or give {prerequisites, anonymize}."))
        return [], False
    names = []
    for i, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, str | int):
            doc.add(f"requirements[{i}]", _("Name a challenge (or give its CTFd id)."))
        else:
            names.append(item)
    return names, bool(anonymize)


def _access(machine: Machine, protocol: str | None, connection_info: str | None) -> None:
    """Turn ctfcli's protocol and connection info into the machine's exposed port and access method."""
    text = (connection_info or "").strip()
    scheme = (protocol or "").lower() or (text.split("://", 1)[0].lower() if "://" in text else "")
    if not scheme and text.startswith(("nc ", "ncat ", "telnet ")):
        scheme = "tcp"
    if not scheme and text.startswith("ssh "):
        scheme = "ssh"
    target = text.split("://", 1)[1].split("/", 1)[0] if "://" in text else text
    numbers = [int(t) for t in re.split(r"[\s:]+", target) if t.isdigit() and 0 < int(t) < 65536]
    port = numbers[-1] if numbers else WEB_PORTS.get(scheme) or (22 if scheme == "ssh" else None)
    machine.web_enabled = scheme in WEB_PORTS
    machine.ssh_enabled = scheme == "ssh"
    if port:
        machine.exposed_ports = [{"port": port, "protocol": "udp" if scheme == "udp" else "tcp"}]


def _image_machine(doc: YamlDoc, image: Any, *, slug: str, base: str, files: dict[str, bytes]) -> Machine | None:
    if image is None or image == "":
        return None
    if not isinstance(image, str) or len(image.strip()) > 255:
        doc.add("image", _("Give the image reference as text (at most 255 characters)."))
        return None
    ref = image.strip().removeprefix("registry://")
    context = safe_relative(ref) if ref in (".", "./") or ref.startswith(("./", "../")) else None
    if ref in (".", "./"):
        context = "."
    dockerfile = posixpath.join(base, "" if context == "." else (context or ref), "Dockerfile").lstrip("/")
    machine = Machine(name="challenge", role="victim", image_source_type=ImageSourceType.CUSTOM, image_ref=ref)
    if context is not None or dockerfile in files:
        tag = f"rangex-import/{slug}:latest"
        machine.image_ref = tag
        folder = posixpath.dirname(dockerfile)
        if dockerfile in files:
            # The folder travels with the upload: the image pipeline builds it (checked as bundles are).
            try:
                machine.planned_build_files = (
                    context_from_bundle(files, folder, where=f"{doc.filename}, image")
                    if folder
                    else check_context_files(dict(files), where=f"{doc.filename}, image")
                )
            except ValidationFailed as exc:
                doc.add("image", exc.message)
            doc.warn(
                "image",
                _("the image is built from %(value)s by the image pipeline.") % {"value": repr(folder or "the upload")},
            )
        else:
            doc.warn(
                "image",
                _(
                    "RangeX does not build images from uploads: build %(image)s and tag it %(tag)s "
                    "on the engine before publishing."
                )
                % {"image": repr(image), "tag": tag},
            )
    return machine


def plan_challenge(path: str, files: dict[str, bytes], *, limits: BundleLimits) -> ImportPlan:
    """Check one challenge.yml (at ``path`` among ``files``) and return what to create, with warnings."""
    doc = YamlDoc(files[path], filename=path, limits=limits)
    base = posixpath.dirname(path)
    data = doc.data
    if not isinstance(data, dict):
        doc.add("", _("A challenge.yml must be a mapping with at least name, category and flags."))
        doc.raise_if_errors()
    doc.check_unrendered(("name", "author", "category", "type", "image", "connection_info", "protocol"))
    _unknown_keys(doc, data)
    rangex = data.get("x-rangex") or {}
    if not isinstance(rangex, dict):
        doc.add("x-rangex", _("x-rangex holds RangeX fields as a mapping."))
        rangex = {}

    name = data.get("name")
    if not isinstance(name, str | int) or isinstance(name, bool) or not str(name).strip():
        doc.add("name", _("Give the challenge's name."))
        name = ""
    name = str(name).strip()
    slug = slugify(name)[:120].strip("-")
    if name and not slug:
        doc.add("name", _("The name needs some letters or digits to make a slug from."))
    texts = {}
    for key in ("category", "description", "author"):
        value = data.get(key)
        if value is not None and not isinstance(value, str | int | float):
            doc.add(key, _("The %(key)s must be text.") % {"key": key})
            value = None
        texts[key] = "" if value is None else str(value)
    ctype = data.get("type", "standard") or "standard"
    metadata: dict[str, Any] = dict(rangex.get("metadata") or {}) if isinstance(rangex.get("metadata"), dict) else {}
    if not rangex:
        metadata["imported_from"] = "ctfd"
    ctfd: dict[str, Any] = metadata.pop("ctfd_extra", None) or {}
    if ctype not in ("standard", "dynamic"):
        ctfd["type"] = ctype
    points, scoring = _scoring(doc, data, str(ctype))
    if ctype not in ("standard", "dynamic"):
        doc.warn(
            "type",
            _(
                "the plugin type %(ctype)s is not understood: imported as %(value)s; "
                "whatever the plugin adds is not kept."
            )
            % {"ctype": repr(ctype), "value": "dynamic" if scoring else "standard"},
        )

    attempts = data.get("attempts")
    if attempts is not None and (_int(attempts) is None or _int(attempts) < 0):
        doc.add("attempts", _("Give a whole number of attempts (0 for unlimited)."))
        attempts = None
    attempts = _int(attempts) or None
    qdef = rangex.get("question") if isinstance(rangex.get("question"), dict) else {}
    question: dict[str, Any] = {
        "id": str(qdef.get("id") or DEFAULT_QUESTION["id"]),
        "type": "flag",
        "prompt": str(qdef.get("prompt") or DEFAULT_QUESTION["prompt"]),
        "points": points,
        "max_attempts": attempts,
        "flags": _flags(doc, data.get("flags")),
    }
    if scoring:
        question["scoring"] = scoring
    logic = data.get("logic")
    if logic not in (None, "any"):
        doc.warn(
            "logic",
            _("logic %(logic)s is graded as 'any': one matching flag solves the challenge.") % {"logic": repr(logic)},
        )
    hints = _hints(doc, data.get("hints"), question["id"])
    hint_mode = "penalty" if any(h["cost"] for h in hints) else ("free" if hints else "disabled")

    topics = _strings(doc, data.get("topics"), "topics")
    if topics:
        metadata["topics"] = topics
    tags = _strings(doc, data.get("tags"), "tags")
    requirement_names, anonymize = _requirements(doc, data.get("requirements"))
    if requirement_names or anonymize:
        metadata["requirements"] = {"prerequisites": [], "anonymize": anonymize}

    for key in KEPT_KEYS:
        value = data.get(key)
        if value is None or value == "" or (key == "logic" and value == "any"):
            continue
        if key == "scheduled_at" and not isinstance(value, str):
            value = value.isoformat() if hasattr(value, "isoformat") else str(value)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            doc.add(key, _("The %(key)s must be text.") % {"key": key})
            continue
        ctfd[key] = value
        if key in NOT_USED:
            doc.warn(key, _("kept in metadata, not used: %(value)s.") % {"value": NOT_USED[key]})
    state = data.get("state")
    if state is not None and state not in ("hidden", "visible"):
        doc.add("state", _("Use hidden or visible."))
    if state is not None or not rangex:
        ctfd["state"] = state or "visible"

    healthcheck = data.get("healthcheck")
    if healthcheck is not None:
        safe = safe_relative(healthcheck) if isinstance(healthcheck, str) else None
        if safe is None:
            doc.add("healthcheck", _("Give the healthcheck script's path relative to the challenge.yml."))
        else:
            # Kept for the test deployments of review: when they exist, this script becomes a check.
            metadata["healthcheck"] = {"script": safe}
            if posixpath.join(base, safe) not in files:
                doc.warn(
                    "healthcheck",
                    _("the script %(safe)s is not in the upload; its path is kept.") % {"safe": repr(safe)},
                )

    solution_writeup = ""
    solution = data.get("solution")
    if solution is not None:
        spath, sstate = (solution, "hidden") if isinstance(solution, str) else (None, None)
        if isinstance(solution, dict):
            spath, sstate = solution.get("path"), solution.get("state", "hidden")
        safe = safe_relative(spath) if isinstance(spath, str) else None
        if safe is None or sstate not in ("hidden", "visible", "solved"):
            doc.add("solution", _("Give the solution's path, or {path, state: hidden|visible|solved}."))
        elif posixpath.join(base, safe) not in files:
            doc.warn("solution", _("the solution file %(safe)s is not in the upload; dropped.") % {"safe": repr(safe)})
        else:
            try:
                solution_writeup = files[posixpath.join(base, safe)].decode("utf-8")
            except UnicodeDecodeError:
                doc.add("solution", _("The solution file is not UTF-8 text."))
            if sstate != "hidden":
                ctfd["solution_state"] = sstate
    if ctfd:
        metadata["ctfd"] = ctfd

    assets = []
    raw_files = data.get("files") or []
    if not isinstance(raw_files, list):
        doc.add("files", _("Files must be a list."))
        raw_files = []
    for i, rel in enumerate(raw_files):
        at = f"files[{i}]"
        safe = safe_relative(rel) if isinstance(rel, str) else None
        if safe is None:
            doc.add(at, _("Give a path relative to the challenge.yml, without '..' or a leading '/'."))
            continue
        full = posixpath.join(base, safe)
        if full not in files:
            doc.add(
                at,
                _("The file %(safe)s is not next to %(basename)s.")
                % {"safe": repr(safe), "basename": posixpath.basename(path)},
            )
            continue
        asset = ScenarioAsset(asset_type="download", file_name=posixpath.basename(safe)[:255])
        assets.append((asset, None, PlannedFile(path=full, content=files[full])))

    connection_info = ctfd.get("connection_info")
    mission = texts["description"].strip()
    if connection_info:
        mission += connection_suffix(str(connection_info))
    compose_path = next((posixpath.join(base, n) for n in COMPOSE_NAMES if posixpath.join(base, n) in files), None)
    machines, pivots, topology = [], [], None
    if compose_path:
        compose_doc = YamlDoc(files[compose_path], filename=compose_path, limits=limits)
        topology = plan_compose(compose_doc, slug=slug, files=files, base=base)
        machines, pivots = topology.machines, topology.pivot_points
        doc.absorb(compose_doc)
        if data.get("image") and not any(m.image_ref == str(data["image"]).strip() for m in machines):
            doc.warn(
                "image", _("%(compose_path)s describes the machines; image ignored.") % {"compose_path": compose_path}
            )
    else:
        machine = _image_machine(doc, data.get("image"), slug=slug, base=base, files=files)
        if machine is not None:
            _access(machine, ctfd.get("protocol"), connection_info)
            machines.append(machine)
    for i, row in enumerate(rangex.get("assets") or []):
        at = f"x-rangex.assets[{i}]"
        if not isinstance(row, dict):
            doc.add(at, _("Each asset is a mapping."))
            continue
        planned = _planned_file(doc, files, row.get("file"), f"{at}.file", base=base)
        fields = {k: row[k] for k in ASSET_FIELDS if row.get(k) is not None}
        asset = ScenarioAsset(**fields)
        _check_target_path(doc, asset.target_path, f"{at}.target_path")
        if planned:
            asset.file_name = asset.file_name or posixpath.basename(planned.path)
            assets.append((asset, row.get("machine"), planned))
    cover = None
    if rangex.get("cover_image"):
        cover = _planned_file(doc, files, rangex["cover_image"], "x-rangex.cover_image", base=base)

    short = mission.split("\n\n")[0].strip()[:400] or name[:400]
    fields = {
        "title": name[:160],
        "short_description": short,
        "category": (texts["category"] or "misc")[:64],
        "tags": tags,
        "scenario_type": "challenge",
        "creator_name": texts["author"][:100] or None,
        "requires_machines": bool(machines),
        "validation_mode": "instant",
        "scoring_mode": "allOrNothing",
        "hint_mode": hint_mode,
        "mission_text": mission,
        "metadata": metadata,
        "questions": [question],
        "hints": hints,
        "solution_writeup": solution_writeup,
        "network_topology": topology.network_topology if topology else None,
        "docker_compose_path": compose_path,
    }
    for key in EXTRA_VERSION_FIELDS:
        if key in rangex:
            fields[key] = rangex[key]
    for key in sorted(set(rangex) - set(EXTRA_VERSION_FIELDS) - {"metadata", "question", "assets", "cover_image"}):
        doc.warn(f"x-rangex.{key}", _("unknown RangeX field; dropped."))
    rules = _healthcheck_rule(doc, metadata.get("healthcheck"), machines, files=files, base=base)
    probe = ScenarioVersion(**{k: v for k, v in fields.items() if k not in ("questions", "hints")})
    exclude = ["scenario", "version_number", "cover_image", "metadata", *([] if name else ["title"])]
    _clean_model(doc, probe, "x-rangex", exclude=exclude)
    doc.raise_if_errors()
    return ImportPlan(
        slug=slug,
        version_fields=fields,
        machines=machines,
        pivot_points=pivots,
        assets=assets,
        cover=cover,
        source_format="ctfd",
        source_file=path,
        name=name,
        requirement_names=requirement_names,
        warnings=doc.warnings,
        rules=rules,
    )


def _healthcheck_rule(doc: YamlDoc, healthcheck: Any, machines: list, *, files: dict, base: str) -> list:
    """Turn a ``healthcheck:`` script into a command rule: run in the first machine, it must exit 0."""
    if not healthcheck or not machines:
        return []
    content = files.get(posixpath.join(base, healthcheck["script"]))
    if content is None:
        return []
    try:
        script = content.decode("utf-8")
    except UnicodeDecodeError:
        doc.add("healthcheck", _("The healthcheck script is not UTF-8 text."))
        return []
    if "\nRANGEX_HEALTHCHECK\n" in f"\n{script}\n":
        doc.add("healthcheck", _("The healthcheck script may not contain a line RANGEX_HEALTHCHECK."))
        return []
    command = (
        "f=$(mktemp) && cat > \"$f\" <<'RANGEX_HEALTHCHECK'\n"
        f"{script.rstrip()}\nRANGEX_HEALTHCHECK\n"
        'chmod +x "$f" && "$f"; rc=$?; rm -f "$f"; exit $rc'
    )
    rule = AdminTestValidation(
        check_type=AdminTestValidation.CheckType.COMMAND,
        machine_name=machines[0].name,
        command=command,
        expected_exit_code=0,
        timeout_seconds=60,
    )
    return [rule]
