"""Testing a site with consentpixel: the machinery behind the pytest plugin's fixtures.

- `collector.py` `CollectorProcess`: `consentpixel serve` on a free port (or yours),
                 its URL, output and counts (`start_collector` starts one)
- `pages.py`     `PageServer`: your pages on http://localhost:PORT, pointing at it
- `visit.py`     `Visit`: one visitor in headless Chromium, deciding and asserting
- `chains.py`    `chain_depth`: how many requests in sequence came before a request

The plugin (consentpixel.pytest_plugin) keeps only its options and fixtures.
"""

from .collector import CollectorProcess, start_collector
from .pages import PageServer
from .visit import Visit

__all__ = ["CollectorProcess", "PageServer", "Visit", "start_collector"]
