"""The lab's own Python dependencies, which a plain install of the suite does not bring.

Testing a real cluster needs none of them, so they are the package's ``[lab]`` extra;
``--lab`` checks for them first and, when one is missing, says in one line how to get
them instead of failing with an import error deep inside the lab. This module imports
nothing itself, so it is safe to call without the extra. Keep ``LAB_EXTRAS`` equal to
the ``lab`` extra in pyproject.toml (a test compares them).
"""

from __future__ import annotations

from importlib.util import find_spec

# distribution name -> the module it provides
LAB_EXTRAS = {"aiohttp": "aiohttp", "cryptography": "cryptography"}
INSTALL_HINT = "pip install 'kubevirt-storage-suite[lab]'"


def missing_lab_extras() -> list[str]:
    """The distributions of the ``[lab]`` extra that cannot be imported here."""
    return [dist for dist, module in LAB_EXTRAS.items() if find_spec(module) is None]


def lab_extras_problem() -> str | None:
    """One line saying what is missing and how to install it, or None when all is there."""
    missing = missing_lab_extras()
    if not missing:
        return None
    return (f"the embedded lab needs the package's [lab] extra (missing: "
            f"{', '.join(missing)}): {INSTALL_HINT}")
