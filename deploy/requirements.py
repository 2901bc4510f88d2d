"""Print what installing Visnyk needs, one requirement a line, from pyproject.toml alone.

The Dockerfile installs these in a layer of their own, before the code is copied: a change to
the code reuses that layer, and only `pip install --no-deps --no-build-isolation .` runs again.
Its build requirements (setuptools, wheel) come first, its dependencies after.

    python deploy/requirements.py [pyproject.toml] > requirements.txt
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as f:
        data = tomllib.load(f)
    return [*data["build-system"]["requires"], *data["project"]["dependencies"]]


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    sys.stdout.write("".join(f"{line}\n" for line in requirements(path)))
