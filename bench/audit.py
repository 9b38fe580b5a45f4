"""Time `consentpixel audit` on the end-to-end fixture sites: seconds per audited page.

    python -m bench.audit [--runs 1] [--alone]

Starts a collector and the fixture sites (e2e/audit_sites/) as the end-to-end tests do,
audits the pages with the consentpixel tag and the pages with other consent managers in
one run each, and prints what the audit's own report measured: the whole run and its
share per page, each page (from its first visitor's start to its last visitor's end; pages
run side by side) and each visitor. With --alone it then audits each page with another
consent manager in a run of its own: the time one URL takes by itself. The machine's load
average is printed with it, since the audit mostly waits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from consentpixel.audit.checks import count
from consentpixel.testing import PageServer, start_collector

SITES = Path(__file__).parents[1] / "e2e" / "audit_sites"
TAGGED = ["good.html", "beacon-early.html", "email-leak.html", "no-tag.html",
          "script-early.html", "consent-mode-late.html"]
MANAGERS = ["vanilla-cookieconsent.html", "klaro.html", "orejime.html", "tarteaucitron.html",
            "cookieconsent.html", "framed.html"]


def audit(urls: list[str], folder: Path) -> dict[str, object]:
    out = folder / "audit.json"
    subprocess.run([sys.executable, "-m", "consentpixel", "audit", *urls, "--json", str(out)],
                   capture_output=True, text=True, timeout=900)
    report: dict[str, object] = json.loads(out.read_text())
    return report


def show(name: str, report: dict[str, object]) -> None:
    pages = report["pages"]
    assert isinstance(pages, list)
    seconds = report["seconds"]
    assert isinstance(seconds, (int, float))
    print(f"{name}: {count(len(pages), 'page', 'pages')} in {seconds:.1f} s, "
          f"{seconds / len(pages):.1f} s per page (load average {os.getloadavg()[0]:.1f})")
    for page in pages:
        visitors = ", ".join(f"{s['name']} {s['seconds']:.1f}" for s in page["scenarios"])
        print(f"  {page['url'].rsplit('/', 1)[1]:<28} {page['seconds']:5.1f} s   {visitors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--alone", action="store_true",
                        help="then audit each page with another consent manager by itself")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        collector = start_collector(folder)
        sites = PageServer(SITES, collector.url)
        try:
            for _ in range(args.runs):
                show("consentpixel pages", audit([sites.page(n) for n in TAGGED], folder))
                show("other consent managers", audit([sites.page(n) for n in MANAGERS], folder))
                for name in MANAGERS if args.alone else []:
                    show("alone", audit([sites.page(name)], folder))
        finally:
            sites.close()
            collector.stop()


if __name__ == "__main__":
    main()
