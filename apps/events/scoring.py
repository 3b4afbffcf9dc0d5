"""Pure scoring rules of events: dynamic values, the answers hash chain.

No database here, so the rules are easy to test and to read.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def dynamic_value(*, initial: int, minimum: int, decay: int, solves_before: int) -> int:
    """Return a question's value after ``solves_before`` earlier solves (CTFd's parabolic decay).

    The first solver gets ``initial``; the value falls along a parabola and reaches ``minimum``
    after ``decay`` solves, never going below it.
    """
    if solves_before <= 0:
        return initial
    value = ((minimum - initial) / (decay**2)) * (solves_before**2) + initial
    return max(minimum, math.ceil(value))


def canonical(entry: dict[str, Any]) -> str:
    """Return the canonical JSON of an accepted answer: sorted keys, no spaces."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_next(previous: str, entry: dict[str, Any]) -> str:
    """Return the next link of the chain: sha256 over the previous hash + the entry's canonical JSON."""
    return hashlib.sha256((previous + canonical(entry)).encode()).hexdigest()


def chain_head(answers: dict[str, dict[str, Any]]) -> str:
    """Return the hash the chain of ``answers`` (ordered by their ``seq``) ends with."""
    head = ""
    for entry in sorted(answers.values(), key=lambda e: e.get("seq", 0)):
        head = chain_next(head, entry)
    return head
