"""The house rules that keep RangeX readable: layered imports without cycles, and files a reader can hold."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
MAX_LINES = 700


def test_no_module_outside_migrations_and_tests_is_over_700_lines():
    long = []
    for folder in ("apps", "rangex"):
        for path in (ROOT / folder).rglob("*.py"):
            if {"migrations", "tests"} & set(path.parts):
                continue
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)}: {lines}")
    assert long == []


def test_the_layer_and_cycle_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "3 kept, 0 broken" in result.stdout
