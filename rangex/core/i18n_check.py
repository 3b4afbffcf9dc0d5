"""Checks that keep the translation complete (run by tests/test_i18n.py, and by hand).

- ``template_problems``: user-visible text in a template outside ``{% translate %}`` /
  ``{% blocktranslate %}``: text between tags and the visible attributes (title, alt, placeholder,
  aria-label, a submit button's value) with letters in them. Ignored: ``{{ }}``, ``{% %}``,
  ``{# #}``, ``{% comment %}``, ``<script>``/``<style>`` contents, HTML comments, the tokens in
  ``ALLOWED_WORDS`` (product names, abbreviations) and any line carrying ``{# i18n: ok #}``.
- ``catalog_drift``: what ``makemessages`` (the commands in locale/README.md) would add to or
  remove from the catalogs, found by running them on a copy of the project.
- ``catalog_statistics``: ``msgfmt -c --statistics`` of a catalog: translated, fuzzy, untranslated,
  and the errors of the format check.
- ``compile_catalogs``: compile each ``.po`` whose ``.mo`` is missing or older (as
  ``manage.py compilemessages`` does), for the test session and deploy.

``python -m rangex.core.i18n_check`` prints all of it for the project.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Words that are the same in every language RangeX speaks: names and abbreviations.
ALLOWED_WORDS = frozenset(
    {
        "RangeX",
        "SSH",
        "VNC",
        "noVNC",
        "API",
        "AWS",
        "ECS",
        "Docker",
        "Firefox",
        "Slack",
        "JSON",
        "YAML",
        "CSV",
        "URL",
        "HTTP",
        "HTTPS",
        "UTC",
        "RM",
        "USD",
        "FA",  # 2FA
        "TOTP",
        "ID",
        "IP",
        "CTFd",
        "CTFtime",
        "ctfcli",
        "Markdown",
        "GitHub",
        "OpenAPI",
        "Swagger",
        "Redoc",
        "px",
        "KB",
        "MB",
        "GB",
    }
)
OPT_OUT = "{# i18n: ok #}"
VISIBLE_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription")
MAKEMESSAGES_IGNORES = (".venv/*", "node_modules/*", "static/vendor/*", "var/*", "staticfiles/*")
# Not copied for makemessages: what its -i patterns skip anyway (top-level folders), and build output.
COPY_SKIPPED_FOLDERS = (".venv", "node_modules", ".git", "var", "staticfiles", "static/vendor")
COPY_IGNORES = ("__pycache__", "*.mo", "*.pyc")
DOMAINS = ("django", "djangojs")

_WORD = re.compile(r"[^\W\d_]+")
# CSS classes, ids and token shapes ("rx-rule-fail", "rx_§_"): code, not words.
_IDENTIFIER = re.compile(r"[\w§]+(?:[-_][\w§]*)+")
_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
_ATTR = re.compile(r"([\w:-]+)\s*=\s*(\"([^\"]*)\"|'([^']*)')", re.S)


@dataclass(frozen=True)
class Problem:
    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}"


def _blank(match: re.Match) -> str:
    """Replace a match with nothing but its newlines, so line numbers stay right."""
    return "\n" * match.group(0).count("\n")


def _mark(match: re.Match) -> str:
    """Replace a translated or computed piece with a non-letter, keeping its newlines."""
    return "§" + "\n" * match.group(0).count("\n")


def _strip_django(text: str) -> str:
    text = re.sub(r"\{%\s*comment\b.*?%\}.*?\{%\s*endcomment\s*%\}", _blank, text, flags=re.S)
    text = re.sub(r"\{#.*?#\}", _blank, text, flags=re.S)
    text = re.sub(
        r"\{%\s*(blocktranslate|blocktrans)\b.*?\{%\s*(endblocktranslate|endblocktrans)\s*%\}", _mark, text, flags=re.S
    )
    text = re.sub(r"\{%\s*verbatim\s*%\}.*?\{%\s*endverbatim\s*%\}", _blank, text, flags=re.S)
    text = re.sub(r"\{%\s*(translate|trans)\s.*?%\}", _mark, text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", _mark, text, flags=re.S)
    return re.sub(r"\{%.*?%\}", lambda m: " " + _blank(m), text, flags=re.S)


def _strip_html_hidden(text: str) -> str:
    text = re.sub(r"<!--.*?-->", _blank, text, flags=re.S)
    text = re.sub(r"<![a-zA-Z][^>]*>", _blank, text)  # <!doctype html>
    return re.sub(
        r"(<(script|style)\b[^>]*>).*?(</\2\s*>)",
        lambda m: m.group(1) + _blank(m) + m.group(3),
        text,
        flags=re.S | re.I,
    )


def _words(text: str) -> list[str]:
    """The words of ``text`` that need a translation: not names, single letters or identifiers."""
    text = _IDENTIFIER.sub(" ", _ENTITY.sub(" ", text))
    return [w for w in _WORD.findall(text) if w not in ALLOWED_WORDS and len(w) > 1]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def template_problems(source: str, *, html: bool = True) -> list[Problem]:
    """Return the user-visible text of a template that is not inside a translation tag."""
    text = _strip_django(source)
    problems: list[Problem] = []
    if not html:
        for number, line in enumerate(text.split("\n"), start=1):
            if _words(line):
                problems.append(Problem(number, line.strip()))
        return _without_opt_outs(problems, source)
    text = _strip_html_hidden(text)
    position = 0
    for tag in _TAG.finditer(text):
        _check_text(text, position, tag.start(), problems)
        _check_attributes(text, tag, problems)
        position = tag.end()
    _check_text(text, position, len(text), problems)
    return _without_opt_outs(problems, source)


def _check_text(text: str, start: int, end: int, problems: list[Problem]) -> None:
    chunk = text[start:end]
    offset = start
    for piece in chunk.split("\n"):
        if _words(piece):
            problems.append(Problem(_line_of(text, offset), " ".join(piece.split())))
        offset += len(piece) + 1


def _check_attributes(text: str, tag: re.Match, problems: list[Problem]) -> None:
    name = tag.group(2).lower()
    attributes = {
        m.group(1).lower(): (m.group(3) if m.group(3) is not None else m.group(4), m)
        for m in _ATTR.finditer(tag.group(3))
    }
    checked = list(VISIBLE_ATTRIBUTES)
    input_type = (attributes.get("type", ("", None))[0] or "").lower()
    if name == "input" and input_type in ("submit", "button", "reset"):
        checked.append("value")
    for attribute in checked:
        if attribute in attributes:
            value, match = attributes[attribute]
            if _words(value):
                line = _line_of(text, tag.start(3) + match.start())
                problems.append(Problem(line, f'{attribute}="{value.strip()}"'))


def _without_opt_outs(problems: list[Problem], source: str) -> list[Problem]:
    lines = source.split("\n")
    return [p for p in problems if OPT_OUT not in lines[p.line - 1]]


def check_templates(root: Path | None = None) -> dict[str, list[Problem]]:
    """Run ``template_problems`` on every .html and .txt template under ``root`` (templates/)."""
    root = Path(root or BASE_DIR / "templates")
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".html", ".txt") or not path.is_file():
            continue
        problems = template_problems(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
        if problems:
            found[str(path.relative_to(root))] = problems
    return found


# --- Catalogs ----------------------------------------------------------------------------------


def _unquote(lines: list[str]) -> str:
    out = []
    for line in lines:
        value = line.strip()[1:-1]
        out.append(re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value))
    return "".join(out)


def catalog_entries(path: Path) -> dict[tuple[str, str, str], dict]:
    """Parse a .po file: (context, msgid, msgid_plural) -> {"msgstr": [...], "flags": set, "obsolete": bool}."""
    entries: dict[tuple[str, str, str], dict] = {}
    if not path.exists():
        return entries
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, list[str]] = {}
        flags: set[str] = set()
        current = None
        obsolete = False
        for raw in block.strip().split("\n"):
            line = raw
            if line.startswith("#~"):
                obsolete, line = True, line[2:].strip()
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            keyword = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
            if keyword:
                current = keyword.group(1)
                fields[current] = [keyword.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" not in fields:
            continue
        msgid = _unquote(fields["msgid"])
        if not msgid:
            continue  # the header
        key = (_unquote(fields.get("msgctxt", [])), msgid, _unquote(fields.get("msgid_plural", [])))
        msgstr = [_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries[key] = {"msgstr": msgstr, "flags": flags, "obsolete": obsolete}
    return entries


def _entry_name(key: tuple[str, str, str]) -> str:
    context, msgid, _plural = key
    return f"{context}|{msgid}" if context else msgid


def makemessages_commands(python: str = sys.executable) -> list[list[str]]:
    """The catalog commands of locale/README.md (no source locations, so the catalogs are stable)."""
    ignores = [arg for pattern in MAKEMESSAGES_IGNORES for arg in ("-i", pattern)]
    base = [python, "manage.py", "makemessages", "-l", "ms", "-l", "en", "--no-location", "--no-obsolete"]
    return [[*base, *ignores], [*base[:3], "-d", "djangojs", *base[3:], *ignores]]


def copy_ignore(base_dir: Path):
    """An ignore function for shutil.copytree of the project: skipped folders and build output."""
    skipped = {(base_dir / folder).resolve() for folder in COPY_SKIPPED_FOLDERS}
    patterns = shutil.ignore_patterns(*COPY_IGNORES)

    def ignore(directory, names):
        here = Path(directory).resolve()
        return {name for name in names if here / name in skipped} | set(patterns(directory, names))

    return ignore


def catalog_drift(base_dir: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Run makemessages on a copy of the project; return per catalog the msgids it would add or drop.

    The copy has the project's sources and locale/ (not .venv, node_modules, vendored files), so the
    working tree is never touched. Returns {"ms/django.po": {"new": [...], "missing": [...],
    "changed": [...]}} for each catalog that would change; "changed" lists entries whose flags
    (python-format, fuzzy) or English plural would change.
    """
    base_dir = Path(base_dir or BASE_DIR)
    with tempfile.TemporaryDirectory(prefix="rangex-makemessages-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(base_dir, copy, ignore=copy_ignore(base_dir), symlinks=True)
        (copy / "locale").mkdir(exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        for command in makemessages_commands():
            subprocess.run(command, cwd=copy, env=env, check=True, capture_output=True, text=True, timeout=300)
        drift = {}
        for language in ("ms", "en"):
            for domain in DOMAINS:
                name = f"{language}/LC_MESSAGES/{domain}.po"
                before = catalog_entries(base_dir / "locale" / name)
                after = catalog_entries(copy / "locale" / name)
                new = sorted(_entry_name(k) for k in after.keys() - before.keys())
                missing = sorted(_entry_name(k) for k in before.keys() - after.keys())
                changed = sorted(
                    _entry_name(k)
                    for k in after.keys() & before.keys()
                    if after[k]["flags"] - {"fuzzy"} != before[k]["flags"] - {"fuzzy"}
                )
                if new or missing or changed:
                    drift[f"{language}/{domain}.po"] = {"new": new, "missing": missing, "changed": changed}
        return drift


def catalog_statistics(path: Path) -> dict:
    """``msgfmt -c --statistics`` of one catalog: counts, and the format check's errors."""
    result = subprocess.run(
        ["msgfmt", "-c", "--statistics", "-o", os.devnull, str(path)], capture_output=True, text=True, timeout=60
    )
    output = result.stderr
    counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    for number, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", output):
        counts[kind] = int(number)
    errors = [line for line in output.splitlines() if "message" not in line or "error" in line]
    return {**counts, "ok": result.returncode == 0, "errors": errors if result.returncode else []}


def untranslated_entries(path: Path) -> dict[str, list[str]]:
    """The msgids of a catalog that have no translation, and those marked fuzzy."""
    entries = catalog_entries(path)
    return {
        "untranslated": sorted(
            _entry_name(k) for k, e in entries.items() if not all(e["msgstr"]) and not e["obsolete"]
        ),
        "fuzzy": sorted(_entry_name(k) for k, e in entries.items() if "fuzzy" in e["flags"] and not e["obsolete"]),
    }


def compile_catalogs(locale_dir: Path | None = None, *, force: bool = False) -> list[Path]:
    """Compile every .po under locale_dir whose .mo is missing or older; return the .mo written."""
    locale_dir = Path(locale_dir or BASE_DIR / "locale")
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        subprocess.run(["msgfmt", "--check-format", "-o", str(partial), str(po)], check=True, timeout=60)
        os.replace(partial, mo)
        written.append(mo)
    return written


def main() -> int:
    problems = check_templates()
    total = sum(len(p) for p in problems.values())
    print(f"Templates with text outside translation tags: {len(problems)} ({total} lines)")
    for name, found in problems.items():
        print(f"  {name}: {len(found)}")
    for po in sorted((BASE_DIR / "locale").glob("ms/LC_MESSAGES/*.po")):
        stats = catalog_statistics(po)
        print(
            f"{po.relative_to(BASE_DIR)}: {stats['translated']} translated, {stats['fuzzy']} fuzzy, "
            f"{stats['untranslated']} untranslated{'' if stats['ok'] else ', format errors'}"
        )
    drift = catalog_drift()
    for name, change in drift.items():
        print(
            f"makemessages would change {name}: {len(change['new'])} new, {len(change['missing'])} gone, "
            f"{len(change['changed'])} changed"
        )
    return 1 if problems or drift else 0


if __name__ == "__main__":
    sys.exit(main())
