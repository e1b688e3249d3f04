"""Reject bad answers before anything is written; cookiecutter then removes the output folder."""

import json
import sys

# Jinja's tojson escapes single quotes, so the raw literal holds any answer safely.
ANSWERS = json.loads(r'{{ cookiecutter | tojson }}')

sys.path.insert(0, r"{{ template_dir }}")
from local_extensions.rules import problems  # noqa: E402


def main() -> int:
    found = problems(ANSWERS)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if found:
        print("Nothing was generated; correct the answers and run again.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
