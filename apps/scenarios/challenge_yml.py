"""Read CTFd/ctfcli ``challenge.yml`` files into an import plan (see ``apps.scenarios.bundles``).

Mapping: name -> title and slug; category; description -> short description and mission text;
value -> the points of one flag question; ``type: dynamic`` keeps ``extra.initial/decay/minimum``
in ``metadata["ctfd_dynamic"]``; flags (static -> exact, ``data: case_insensitive`` ->
case_insensitive, regex -> regex; several flags become one regex that accepts any of them);
hints (text or {content, cost}; any cost switches the hint mode to penalty); tags; files (relative
paths next to the yml become downloads); connection_info (metadata and mission text); image (one
custom-image machine); requirements and state (metadata). An import is always a DRAFT: a
``state: visible`` challenge still goes through review before publication.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from django.utils.text import slugify

from apps.scenarios.bundle_io import BundleLimits, ImportPlan, PlannedFile, YamlDoc, safe_relative
from apps.scenarios.grading import regex_problem
from apps.scenarios.models import ImageSourceType, Machine, ScenarioAsset

KNOWN_TYPES = ("standard", "dynamic")


def _flag(doc: YamlDoc, flag: Any, at: str) -> tuple[str, str] | None:
    """Return (match, pattern-or-text) of one CTFd flag, or None after recording the error."""
    if isinstance(flag, str):
        content, ftype, data = flag, "static", ""
    elif isinstance(flag, dict):
        content, ftype, data = flag.get("content"), flag.get("type", "static"), flag.get("data") or ""
    else:
        doc.add(at, "A flag is text or a mapping with type and content.")
        return None
    if not isinstance(content, str) or not content.strip():
        doc.add(f"{at}.content" if isinstance(flag, dict) else at, "The flag is empty.")
        return None
    if ftype == "static":
        return ("case_insensitive" if data == "case_insensitive" else "exact", content.strip())
    if ftype == "regex":
        problem = regex_problem(content)
        if problem:
            doc.add(f"{at}.content", problem)
            return None
        return ("regex", f"(?i:{content})" if data == "case_insensitive" else content)
    doc.add(f"{at}.type", f"Unknown flag type {ftype!r}; use static or regex.")
    return None


def _combine(flags: list[tuple[str, str]]) -> tuple[str, str]:
    if len(flags) == 1:
        return flags[0]
    parts = []
    for match, text in flags:
        if match == "regex":
            parts.append(f"(?:{text})")
        elif match == "case_insensitive":
            parts.append(f"(?i:{re.escape(text)})")
        else:
            parts.append(re.escape(text))
    return ("regex", "|".join(parts))


def plan_challenge(path: str, files: dict[str, bytes], *, limits: BundleLimits) -> ImportPlan:
    """Check one challenge.yml (at ``path`` among ``files``) and return what to create."""
    doc = YamlDoc(files[path], filename=path, limits=limits)
    base = posixpath.dirname(path)
    data = doc.data
    if not isinstance(data, dict):
        doc.add("", "A challenge.yml must be a mapping with at least name, category and flags.")
        doc.raise_if_errors()

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        doc.add("name", "Give the challenge's name.")
        name = ""
    name = name.strip()
    slug = slugify(name)[:120].strip("-")
    if name and not slug:
        doc.add("name", "The name needs some letters or digits to make a slug from.")
    category = data.get("category") or "misc"
    if not isinstance(category, str):
        doc.add("category", "The category must be text.")
        category = "misc"
    description = data.get("description") or ""
    if not isinstance(description, str):
        doc.add("description", "The description must be text.")
        description = ""
    ctype = data.get("type", "standard")
    if ctype not in KNOWN_TYPES:
        doc.add("type", f"Unknown challenge type {ctype!r}; use standard or dynamic.")
    metadata: dict[str, Any] = {"imported_from": "ctfd"}
    value = data.get("value")
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    if ctype == "dynamic":
        metadata["ctfd_dynamic"] = {k: extra.get(k) for k in ("initial", "decay", "minimum", "function") if k in extra}
        if value is None:
            value = extra.get("initial")
    if value is None:
        value = 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        doc.add("extra.initial" if ctype == "dynamic" and data.get("value") is None else "value", "Give whole points.")
        value = 0
    attempts = data.get("attempts")
    if attempts in (None, 0):
        attempts = None
    elif not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        doc.add("attempts", "Give a whole number of attempts (0 for unlimited).")
        attempts = None

    raw_flags = data.get("flags")
    if raw_flags is None:
        raw_flags = []
    if not isinstance(raw_flags, list):
        doc.add("flags", "Flags must be a list.")
        raw_flags = []
    flags = [parsed for i, raw in enumerate(raw_flags) if (parsed := _flag(doc, raw, f"flags[{i}]")) is not None]
    questions = []
    if flags:
        match, answer = _combine(flags)
        if match == "regex" and len(flags) > 1:
            problem = regex_problem(answer)
            if problem:
                doc.add("flags", f"The flags combined into one pattern: {problem}")
        questions.append(
            {
                "id": "flag",
                "type": "flag",
                "prompt": "Submit the flag.",
                "points": value,
                "max_attempts": attempts,
                "answer": answer,
                "match": match,
                "dynamic": False,
            }
        )
    elif not raw_flags:
        doc.add("flags", "Give at least one flag.")

    hints = []
    raw_hints = data.get("hints") or []
    for i, hint in enumerate(raw_hints if isinstance(raw_hints, list) else []):
        at = f"hints[{i}]"
        if isinstance(hint, str):
            text, cost = hint, 0
        elif isinstance(hint, dict):
            text, cost = hint.get("content"), hint.get("cost", 0) or 0
        else:
            doc.add(at, "A hint is text or a mapping with content and cost.")
            continue
        if not isinstance(text, str) or not text.strip():
            doc.add(f"{at}.content" if isinstance(hint, dict) else at, "The hint is empty.")
            continue
        if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
            doc.add(f"{at}.cost", "Give the hint's cost in whole points.")
            continue
        hints.append({"id": f"h{i + 1}", "question_id": "flag", "text": text.strip(), "cost": cost})
    if not isinstance(raw_hints, list):
        doc.add("hints", "Hints must be a list.")
    hint_mode = "penalty" if any(h["cost"] for h in hints) else ("free" if hints else "disabled")

    tags = []
    raw_tags = data.get("tags") or []
    for i, tag in enumerate(raw_tags if isinstance(raw_tags, list) else []):
        tag = tag.get("value") if isinstance(tag, dict) else tag
        if not isinstance(tag, str | int) or isinstance(tag, bool):
            doc.add(f"tags[{i}]", "A tag is text.")
            continue
        tags.append(str(tag))
    if not isinstance(raw_tags, list):
        doc.add("tags", "Tags must be a list.")

    assets = []
    raw_files = data.get("files") or []
    for i, rel in enumerate(raw_files if isinstance(raw_files, list) else []):
        at = f"files[{i}]"
        safe = safe_relative(rel) if isinstance(rel, str) else None
        if safe is None:
            doc.add(at, "Give a path relative to the challenge.yml, without '..' or a leading '/'.")
            continue
        full = f"{base}/{safe}" if base else safe
        if full not in files:
            doc.add(at, f"The file {safe!r} is not next to the challenge.yml.")
            continue
        asset = ScenarioAsset(asset_type="download", file_name=posixpath.basename(safe)[:255])
        assets.append((asset, None, PlannedFile(path=full, content=files[full])))
    if not isinstance(raw_files, list):
        doc.add("files", "Files must be a list.")

    mission = description.strip()
    connection_info = data.get("connection_info")
    if connection_info is not None:
        if not isinstance(connection_info, str):
            doc.add("connection_info", "Connection info must be text.")
        else:
            metadata["connection_info"] = connection_info
            mission = f"{mission}\n\n**Connection:** `{connection_info}`".strip()
    if data.get("requirements") is not None:
        metadata["ctfd_requirements"] = data["requirements"]
    state = data.get("state", "hidden")
    if state not in ("hidden", "visible"):
        doc.add("state", "Use hidden or visible.")
    metadata["ctfd_state"] = state
    if state == "visible":
        metadata["publication_note"] = (
            "Marked visible in CTFd; it stays a draft until an admin reviews and publishes it."
        )

    machines = []
    image = data.get("image")
    if image is not None:
        if not isinstance(image, str) or not image.strip():
            doc.add("image", "Give the image reference as text.")
        elif len(image.strip()) > 255:
            doc.add("image", "The image reference may be at most 255 characters long.")
        elif image.strip() in (".", "./") or image.startswith(("./", "../", "/")):
            metadata["ctfd_image_build_context"] = image
        else:
            machine = Machine(
                name="challenge", role="victim", image_source_type=ImageSourceType.CUSTOM, image_ref=image.strip()
            )
            machines.append(machine)
            if connection_info:
                machine.web_enabled = str(connection_info).startswith("http")
    short = description.strip().split("\n\n")[0].strip() or name
    fields = {
        "title": name[:160],
        "short_description": short[:400],
        "category": category[:64],
        "tags": tags,
        "scenario_type": "challenge",
        "creator_name": str(data["author"])[:100] if data.get("author") else None,
        "requires_machines": bool(machines),
        "validation_mode": "instant",
        "scoring_mode": "allOrNothing",
        "hint_mode": hint_mode,
        "mission_text": mission,
        "metadata": metadata,
        "questions": questions,
        "hints": hints,
    }
    doc.raise_if_errors()
    return ImportPlan(
        slug=slug,
        version_fields=fields,
        machines=machines,
        pivot_points=[],
        assets=assets,
        cover=None,
        source_format="ctfd",
        source_file=path,
    )
