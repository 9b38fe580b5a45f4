"""Headless Chromium through Playwright, and its errors worded for people.

Playwright is the `[audit]` extra. It is imported here and nowhere else, by
`playwright()`, when a browser starts: installing consentpixel without it breaks
nothing but the audit and the plugin's browser fixtures, which then say what to install.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Playwright as SyncPlaywright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# The audit sees what a visitor sees: several consent managers (vanilla-cookieconsent's
# hideFromBots, on by default) show no banner when navigator.webdriver says automation.
# Its User-Agent still says HeadlessChrome, which collectors that count no automation drop.
AS_A_VISITOR = ["--disable-blink-features=AutomationControlled"]

# Chromium's network errors, for people.
NET_ERRORS = {
    "ERR_CONNECTION_REFUSED": "cannot reach it: connection refused",
    "ERR_NAME_NOT_RESOLVED": "cannot reach it: the host name does not resolve",
    "ERR_ADDRESS_UNREACHABLE": "cannot reach it: address unreachable",
    "ERR_INTERNET_DISCONNECTED": "cannot reach it: no network",
    "ERR_CONNECTION_TIMED_OUT": "cannot reach it: the connection timed out",
    "ERR_CONNECTION_RESET": "cannot reach it: the connection was reset",
    "ERR_CONNECTION_CLOSED": "cannot reach it: the connection was closed",
    "ERR_EMPTY_RESPONSE": "the server closed the connection without an answer",
    "ERR_TOO_MANY_REDIRECTS": "too many redirects",
    "ERR_CERT_AUTHORITY_INVALID": "TLS error: the certificate is not trusted",
    "ERR_CERT_COMMON_NAME_INVALID": "TLS error: the certificate is for another host",
    "ERR_CERT_DATE_INVALID": "TLS error: the certificate has expired or is not yet valid",
}


class AuditError(Exception):
    """The audit cannot run at all: no Playwright, no browser."""


class PageError(Exception):
    """A page that cannot be audited, in one line: unreachable, TLS, never loads…"""


@dataclass(frozen=True)
class Playwright:
    """The parts of Playwright's synchronous API the audit uses."""

    start: Callable[[], AbstractContextManager[SyncPlaywright]]
    Error: type[PlaywrightError]
    TimeoutError: type[PlaywrightTimeout]


@functools.cache
def playwright() -> Playwright:
    try:
        from playwright.sync_api import Error, TimeoutError, sync_playwright
    except ImportError:
        raise AuditError("the audit needs Playwright: in the consentpixel checkout, "
                         "pip install '.[audit]'") from None
    return Playwright(sync_playwright, Error, TimeoutError)


def chromium_path() -> str | None:
    return os.environ.get("CONSENTPIXEL_CHROMIUM") or shutil.which("chromium") or None


@contextmanager
def chromium(automation: bool = True) -> Iterator[Browser]:
    """Headless Chromium: the system's when there is one, else Playwright's own; without
    automation, pages cannot tell it from a visitor's browser by navigator.webdriver."""
    api = playwright()
    with api.start() as started:
        try:
            browser = started.chromium.launch(
                executable_path=chromium_path(),
                args=CHROMIUM_ARGS + ([] if automation else AS_A_VISITOR))
        except api.Error as exc:
            raise AuditError(f"cannot start Chromium: {first_line(exc)} (install it, set "
                             "CONSENTPIXEL_CHROMIUM, or run: playwright install chromium)"
                             ) from None
        try:
            yield browser
        finally:
            browser.close()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return re.sub(r"^\w+\.\w+: ", "", text[0]) if text else type(exc).__name__


def load_error(exc: BaseException) -> str:
    """Why a page did not load, for people: Chromium's net::ERR_… named."""
    code = re.search(r"net::(ERR_[A-Z_]+)", str(exc))
    if not code:
        return f"could not load it: {first_line(exc)}"
    name = code.group(1)
    if name in NET_ERRORS:
        return NET_ERRORS[name]
    if name.startswith(("ERR_CERT_", "ERR_SSL_", "ERR_BAD_SSL")):
        return f"TLS error: {name}"
    return f"could not load it: {name}"
