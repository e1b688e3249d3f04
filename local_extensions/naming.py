"""Names derived from the answers: one implementation shared by prompts, templates and hooks."""

from __future__ import annotations

import re

_IRREGULAR_PLURAL_ENDINGS = (
    ("ies", "y"),
    ("sses", "ss"),
    ("xes", "x"),
    ("ches", "ch"),
    ("shes", "sh"),
)


def singular(collection: str) -> str:
    """Best-effort English singular of a collection name; users type irregular ones.

    >>> singular("students"), singular("categories"), singular("boxes"), singular("news")
    ('student', 'category', 'box', 'new')
    """
    for plural_end, singular_end in _IRREGULAR_PLURAL_ENDINGS:
        if collection.endswith(plural_end) and len(collection) > len(plural_end):
            return collection[: -len(plural_end)] + singular_end
    if collection.endswith("s") and not collection.endswith("ss") and len(collection) > 1:
        return collection[:-1]
    return collection


def pascal(name: str) -> str:
    """`student_record` -> `StudentRecord`, for class names in generated code."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)
