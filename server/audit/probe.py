"""The audit's script inside the page (probe.js), read once and handed to Playwright
one function at a time.

Each function goes with the whole file around it, so probe.js stays one readable,
linted source and none of its names reaches the page's globals.
"""

from __future__ import annotations

import re
from importlib import resources

SOURCE = resources.files("consentpixel.audit").joinpath("probe.js").read_text("utf-8")
FUNCTIONS = frozenset(re.findall(r"^function (\w+)\(", SOURCE, re.M))


def check_defined(name: str) -> None:
    if name not in FUNCTIONS:
        raise ValueError(f"probe.js has no function {name}")


def page_function(name: str) -> str:
    """A function for page.evaluate (and wait_for_function): probe.js's `name`, called
    with evaluate's argument."""
    check_defined(name)
    return f"(arg) => {{\n{SOURCE}\nreturn {name}(arg);\n}}"


def init_script(name: str) -> str:
    """A script that runs probe.js's `name` before the page's own, in every frame."""
    check_defined(name)
    return f"(() => {{\n{SOURCE}\n{name}();\n}})();"
