"""Reading uploads safely: zips, folders and YAML with line numbers, for every importer.

Reading is defensive: entries with absolute paths, ``..`` or symlinks are refused, and the number
of entries, the total uncompressed size and each entry's compression ratio are capped while the
bytes are read (the sizes in the zip headers are not trusted). YAML is bounded before it is built
into objects: its size, nesting depth, number of nodes and the CPU time of reading it are capped,
and anchors and aliases are refused. YAML errors name the file, the line and the field.
``ImportPlan`` is what an importer (a RangeX bundle, a CTFd ``challenge.yml``) hands to
``apps.scenarios.imports``, which writes it through the scenario services.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import re
import stat
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.scenarios.models import Machine, NetworkPivotPoint, ScenarioAsset
from rangex.core.errors import ValidationFailed

MANIFEST_NAME = "scenario.yaml"
CHALLENGE_NAMES = ("challenge.yml", "challenge.yaml")
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
# Cookiecutter and Jinja placeholders: what a template holds before it is rendered.
TEMPLATE_RE = re.compile(r"\{\{\s*cookiecutter\.|\{%-?\s*\w|\{\{\s*[\w.]+\s*\}\}")


@dataclass(frozen=True)
class BundleLimits:
    """Caps applied while reading an upload."""

    max_upload_bytes: int = 200 * 1024 * 1024
    max_entries: int = 500
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100
    max_manifest_bytes: int = 1024 * 1024
    # A manifest nests a handful of levels (version, machines, a machine, its ports); metadata a few more.
    max_yaml_depth: int = 32
    max_yaml_nodes: int = 50_000
    max_yaml_cpu_seconds: float = 2.0


DEFAULT_LIMITS = BundleLimits()


# --- Reading files safely -----------------------------------------------------------------------


def safe_relative(name: str) -> str | None:
    """Return ``name`` normalised when it is a safe relative path, else None."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_zip(data: bytes | Any, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files of a zip as ``{path: bytes}``, refusing anything unsafe."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationFailed(_("%(filename)s is not a valid zip file.") % {"filename": filename}) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise ValidationFailed(
                _("%(filename)s has %(count)s entries; at most %(max_entries)s are allowed.")
                % {"filename": filename, "count": len(infos), "max_entries": limits.max_entries}
            )
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = info.filename
            safe = safe_relative(name.rstrip("/") if info.is_dir() else name)
            if safe is None:
                raise ValidationFailed(
                    _("%(filename)s: the entry %(name)s has an absolute path or '..'; refused.")
                    % {"filename": filename, "name": repr(name)}
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ValidationFailed(
                    _("%(filename)s: the entry %(name)s is a symbolic link; refused.")
                    % {"filename": filename, "name": repr(name)}
                )
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ValidationFailed(
                    _("%(filename)s: the entry %(name)s is encrypted; refused.")
                    % {"filename": filename, "name": repr(name)}
                )
            if safe in files:
                raise ValidationFailed(
                    _("%(filename)s: the entry %(name)s appears twice.") % {"filename": filename, "name": repr(name)}
                )
            chunks = []
            size = 0
            try:
                with archive.open(info) as fh:
                    while chunk := fh.read(64 * 1024):
                        size += len(chunk)
                        total += len(chunk)
                        if total > limits.max_total_bytes:
                            megabytes = limits.max_total_bytes // (1024 * 1024)
                            raise ValidationFailed(
                                _("%(filename)s unpacks to more than %(megabytes)s MB; refused.")
                                % {"filename": filename, "megabytes": megabytes}
                            )
                        if size > 1024 * 1024 and size > limits.max_ratio * max(info.compress_size, 1):
                            raise ValidationFailed(
                                _(
                                    "%(filename)s: the entry %(name)s is compressed more than %(max_ratio)s:1 "
                                    "(a decompression bomb?); refused."
                                )
                                % {"filename": filename, "name": repr(name), "max_ratio": limits.max_ratio}
                            )
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                raise ValidationFailed(
                    _("%(filename)s: the entry %(name)s cannot be read (%(exc)s).")
                    % {"filename": filename, "name": repr(name), "exc": exc}
                ) from None
            files[safe] = b"".join(chunks)
    return files


def read_folder(path: Path, *, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files under ``path`` as ``{relative path: bytes}``; symlinks are refused."""
    files: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(path, followlinks=False):
        for name in dirs + names:
            full = Path(root) / name
            if full.is_symlink():
                raise ValidationFailed(_("%(full)s is a symbolic link; refused.") % {"full": full})
        for name in names:
            full = Path(root) / name
            rel = full.relative_to(path).as_posix()
            if len(files) >= limits.max_entries:
                raise ValidationFailed(
                    _("%(path)s has more than %(max_entries)s files.")
                    % {"path": path, "max_entries": limits.max_entries}
                )
            total += full.stat().st_size
            if total > limits.max_total_bytes:
                raise ValidationFailed(
                    _("%(path)s holds more than %(value)s MB.")
                    % {"path": path, "value": limits.max_total_bytes // (1024 * 1024)}
                )
            files[rel] = full.read_bytes()
    return files


class FolderFiles(Mapping):
    """The files of a folder on disk, read only when asked for.

    A ``challenge.yml`` given alone is read with the files it names beside it, without reading
    everything else in its folder. Paths are relative (no ``..``), symbolic links are refused, and
    what is read counts against the same total size cap as a folder import.
    """

    def __init__(self, root: Path, *, first: str, limits: BundleLimits = DEFAULT_LIMITS):
        # ``first`` is the file as the person named it ("ctf/web/challenge.yml"); its folder is
        # ``root`` on disk, and every name asked for is read relative to that folder.
        self.root = root
        self.first = first
        self.prefix = posixpath.dirname(first)
        self.limits = limits
        self.read: dict[str, bytes] = {}
        self.total = 0

    def _path(self, name: str) -> Path | None:
        if not isinstance(name, str):
            return None
        if self.prefix:
            if not name.startswith(self.prefix + "/"):
                return None
            name = name[len(self.prefix) + 1 :]
        safe = safe_relative(name)
        if safe is None:
            return None
        path = self.root
        for part in safe.split("/"):
            path = path / part
            if path.is_symlink():
                raise ValidationFailed(_("%(path)s is a symbolic link; refused.") % {"path": path})
        return path if path.is_file() else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self.read or self._path(name) is not None)

    def __getitem__(self, name: str) -> bytes:
        if name in self.read:
            return self.read[name]
        path = self._path(name)
        if path is None:
            raise KeyError(name)
        self.total += path.stat().st_size
        if self.total > self.limits.max_total_bytes:
            raise ValidationFailed(
                _("%(root)s holds more than %(value)s MB.")
                % {"root": self.root, "value": self.limits.max_total_bytes // (1024 * 1024)}
            )
        self.read[name] = path.read_bytes()
        return self.read[name]

    def __iter__(self):
        return iter(dict.fromkeys([self.first, *self.read]))

    def __len__(self) -> int:
        return len({self.first, *self.read})


# --- YAML with line numbers ---------------------------------------------------------------------

# libyaml reads events about fifty times faster than the pure-Python parser; both are bounded below.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NODE = (yaml.ScalarEvent, *_OPENING)


class _ManifestLoader(_YAML_LOADER):
    """The safe loader, keeping timestamps as text and naming the line of a value it cannot build."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            # ``!!int x``, ``2023-13-45``, ``!!timestamp x``: PyYAML raises these bare.
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from None


# Dates stay as written: they end up in JSON columns, which hold text, not date objects.
_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", _ManifestLoader.construct_yaml_str)


def _yaml_bounds_check(text: str, *, filename: str, limits: BundleLimits) -> None:
    """Refuse YAML that is nested too deeply, has too many nodes, uses aliases or takes too long to read.

    This walks the parser's event stream, which is produced lazily: a hostile file is refused after
    reading only as far as the first level or node over a limit. The composer that builds the nodes
    afterwards recurses once per level, and PyYAML's scanner slows down quadratically with the nesting
    depth, so no file deeper than ``max_yaml_depth`` may reach either.
    """
    depth = nodes = 0
    started = time.thread_time()
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent):
            # Aliases would let a small file expand into a huge document; a manifest has no use for them.
            line = event.start_mark.line + 1
            raise ValidationFailed(
                _("%(filename)s, line %(line)s: YAML anchors and aliases are not supported.")
                % {"filename": filename, "line": line}
            )
        if isinstance(event, _NODE):
            nodes += 1
            if nodes > limits.max_yaml_nodes:
                line = event.start_mark.line + 1
                raise ValidationFailed(
                    _("%(filename)s, line %(line)s: the YAML has more than %(max_yaml_nodes)s values; refused.")
                    % {"filename": filename, "line": line, "max_yaml_nodes": limits.max_yaml_nodes}
                )
            if nodes % 256 == 0 and time.thread_time() - started > limits.max_yaml_cpu_seconds:
                raise ValidationFailed(
                    _("%(filename)s: reading the YAML took more than %(max_yaml_cpu_seconds)s seconds; refused.")
                    % {"filename": filename, "max_yaml_cpu_seconds": format(limits.max_yaml_cpu_seconds, "g")}
                )
        if isinstance(event, _OPENING):
            depth += 1
            if depth > limits.max_yaml_depth:
                line = event.start_mark.line + 1
                raise ValidationFailed(
                    _(
                        "%(filename)s, line %(line)s: the YAML is nested more than %(max_yaml_depth)s levels deep; "
                        "refused."
                    )
                    % {"filename": filename, "line": line, "max_yaml_depth": limits.max_yaml_depth}
                )
        elif isinstance(event, _CLOSING):
            depth -= 1


class YamlDoc:
    """A parsed YAML file that remembers the line of every field, for error messages."""

    def __init__(self, text: bytes | str, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS):
        self.filename = filename
        self.errors: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.others: list[YamlDoc] = []
        self.lines: dict[str, int] = {}
        if len(text) > limits.max_manifest_bytes:
            raise ValidationFailed(
                _("%(filename)s is larger than %(value)s KB.")
                % {"filename": filename, "value": limits.max_manifest_bytes // 1024}
            )
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationFailed(_("%(filename)s is not UTF-8 text.") % {"filename": filename}) from None
        try:
            _yaml_bounds_check(text, filename=filename, limits=limits)
            loader = _ManifestLoader(text)
            try:
                node = loader.get_single_node()
                self.data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}" if mark else ""
            template = TEMPLATE_RE.search(text)
            if template:
                line = text.count("\n", 0, template.start()) + 1
                raise ValidationFailed(
                    _(
                        "%(filename)s, line %(line)s: this is not valid YAML and looks like an unrendered template "
                        "(placeholders such as {{cookiecutter.name}}); render it with its values first."
                    )
                    % {"filename": filename, "line": line}
                ) from None
            raise ValidationFailed(
                _("%(filename)s%(where)s: this is not valid YAML (%(value)s).")
                % {"filename": filename, "where": where, "value": exc.problem or exc}
            ) from None
        except yaml.YAMLError as exc:
            raise ValidationFailed(
                _("%(filename)s: this is not valid YAML (%(exc)s).") % {"filename": filename, "exc": exc}
            ) from None
        except RecursionError:
            # The depth check above makes this unreachable; a crash must still never become a 500.
            raise ValidationFailed(
                _("%(filename)s: the YAML is nested too deeply; refused.") % {"filename": filename}
            ) from None
        if node is not None:
            self._index(node, "")
        self._check_json_values(self.data, "")
        self.raise_if_errors()

    def _check_json_values(self, value: Any, path: str) -> None:
        # Only JSON's types: the values are stored in JSON columns, which refuse NaN, infinity and
        # the binary strings and sets YAML can also express.
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, "Use a finite number.")
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_json_values(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._check_json_values(item, f"{path}[{i}]")
        elif not isinstance(value, str | int | float | type(None)):
            self.add(path, "Use text, a number, true/false, a list or a mapping.")

    def _index(self, node, path: str) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                self.lines[child] = key_node.start_mark.line + 1
                self._index(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, f"{path}[{i}]")

    def line_of(self, path: str) -> int:
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def warn(self, path: str, message: str) -> None:
        """Record something kept in another form or left out, for the import report."""
        text = _("%(filename)s, line %(line)s, %(path)s: %(message)s") if path else _("%(filename)s, file: %(message)s")
        self.warnings.append(
            text % {"filename": self.filename, "line": self.line_of(path), "path": path, "message": message}
        )

    def where(self, path: str) -> str:
        return _("%(filename)s, line %(line)s, %(path)s") % {
            "filename": self.filename,
            "line": self.line_of(path),
            "path": path,
        }

    def check_unrendered(self, paths: tuple[str, ...]) -> None:
        """Refuse a file whose fields still hold template placeholders (a valid YAML template)."""
        for path in paths:
            value = self.get(path)
            if isinstance(value, str) and TEMPLATE_RE.search(value):
                self.add(
                    path,
                    _(
                        "%(value)s looks like an unrendered template placeholder; "
                        "render the template with its values first."
                    )
                    % {"value": repr(value)},
                )

    def get(self, path: str) -> Any:
        value = self.data
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def absorb(self, other: YamlDoc) -> None:
        """Take the problems and warnings of a file read along with this one (a Compose file beside it)."""
        self.warnings.extend(other.warnings)
        if other.errors:
            self.others.append(other)

    def raise_if_errors(self) -> None:
        docs = [d for d in (self, *self.others) if d.errors]
        if not docs:
            return
        fields = {
            f"{doc.filename}:{path}": [f"line {doc.line_of(path)}: {m}" for m in messages]
            for doc in docs
            for path, messages in doc.errors.items()
        }
        first = docs[0]
        path, messages = next(iter(first.errors.items()))
        more = sum(len(d.errors) for d in docs) - 1
        tail = (
            " (" + ngettext("%(count)s more problem", "%(count)s more problems", more) % {"count": more} + ")"
            if more
            else ""
        )
        raise ValidationFailed(
            _("%(filename)s, line %(line_of)s, %(path)s: %(value)s%(tail)s")
            % {
                "filename": first.filename,
                "line_of": first.line_of(path),
                "path": path,
                "value": messages[0],
                "tail": tail,
            },
            fields=fields,
        )


def load_source(data: bytes | Any, *, filename: str, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the files of an upload: a zip, a folder path, or a single YAML file."""
    if isinstance(data, Path):
        if not data.is_dir():
            raise ValidationFailed(_("%(data)s is not a folder.") % {"data": data})
        return read_folder(data, limits=limits)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray):
        data = data.read(limits.max_upload_bytes + 1)
    if len(data) > limits.max_upload_bytes:
        raise ValidationFailed(
            _("%(filename)s is larger than %(value)s MB.")
            % {"filename": filename, "value": limits.max_upload_bytes // (1024 * 1024)}
        )
    lower = filename.lower()
    if lower.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return read_zip(bytes(data), filename=filename, limits=limits)
    if lower.endswith((".yml", ".yaml")):
        name = posixpath.basename(lower)
        if name in (MANIFEST_NAME, "scenario.yml"):
            return {MANIFEST_NAME: bytes(data)}
        if name in COMPOSE_NAMES:
            return {name: bytes(data)}
        # The file keeps the name it was given, so every message names it.
        return {safe_relative(posixpath.basename(filename)) or "challenge.yml": bytes(data)}
    raise ValidationFailed(
        _("%(filename)s: upload a .zip bundle, a scenario.yaml or a challenge.yml file.") % {"filename": filename}
    )


@dataclass
class PlannedFile:
    path: str
    content: bytes


@dataclass
class ImportPlan:
    """Everything one import will create, checked before anything is written.

    ``name`` is the title the source gives (CTFd resolves requirements by name);
    ``slug_is_identity`` says the slug was given explicitly (a RangeX manifest), so an existing
    scenario of that slug gets a new version rather than a new scenario being made.
    ``requirement_names`` are the CTFd requirements still to resolve to scenario slugs.
    """

    slug: str
    version_fields: dict[str, Any]
    machines: list[Machine]
    pivot_points: list[NetworkPivotPoint]
    assets: list[tuple[ScenarioAsset, str | None, PlannedFile]]
    cover: PlannedFile | None
    source_format: str
    source_file: str
    name: str = ""
    slug_is_identity: bool = False
    requirement_names: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rules: list[Any] = field(default_factory=list)  # AdminTestValidation rows, not yet saved
