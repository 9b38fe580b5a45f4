"""The consentpixel command: serve, init, check, report, cost, secret, audit.

This module parses and dispatches: serving.py runs the collector, reports.py and
costs.py read and write the figures, audit/ drives the browser. Errors meant for people
are one line on stderr, never a traceback, with the exit status docs/cli.md lists: 2
when the command cannot run as asked (an option, the config, a database that is not
there, a port taken), 1 when it ran and failed (the store unreachable, an audit check).

Every command finds its config as serve does: --config, else CONSENTPIXEL_CONFIG, else
./consentpixel.toml when there is one, else the demo site. Commands that read never
create a database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from . import __version__, config as config_module, costs, demo, reports, settings
from . import secret as admin_secret
from .config import COLLECTOR_DEFAULTS, Config, ConfigError
from .store import NoStore, Store, StoreError, open_store

CONFIG_FILE = "consentpixel.toml"  # found in the working directory, as `init` writes it


class UsageError(Exception):
    """A mistake in how the command was called, worded for the person who called it."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, not argparse's usage block: the help is a flag away.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        args.run(args)
    except (UsageError, ConfigError, NoStore) as exc:
        print(f"consentpixel: {exc}", file=sys.stderr)
        sys.exit(2)
    except StoreError as exc:
        print(f"consentpixel: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `consentpixel report | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="consentpixel",
        description="A self-hosted, privacy-first conversion pixel with a consent manager.")
    parser.add_argument("--version", action="version", version=f"consentpixel {__version__}")
    parser.set_defaults(run=lambda args: parser.print_help())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)

    serve = commands.add_parser("serve", help="run the collector (the demo site without --config)")
    add_store_options(serve)
    serve.add_argument("--host", default=os.environ.get("CONSENTPIXEL_HOST", "127.0.0.1"),
                       help="address to listen on (default 127.0.0.1; CONSENTPIXEL_HOST)")
    serve.add_argument("--port", type=port_number, default=None,
                       help="port, 0 for any free one (default 8000; CONSENTPIXEL_PORT)")
    serve.add_argument("--workers", type=int, default=1,
                       help="collector processes sharing the port (default 1)")
    serve.set_defaults(run=run_serve)

    init = commands.add_parser("init", help="write a commented starter config file")
    init.add_argument("file", nargs="?", default="consentpixel.toml",
                      help="where to write it (default consentpixel.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=run_init)

    check = commands.add_parser("check", help="validate a config file")
    check.add_argument("config", help="the TOML file")
    check.set_defaults(run=run_check)

    report = commands.add_parser("report", help="print counts and values for a site, or "
                                                "why hits were not counted (--drops)")
    add_store_options(report)
    report.add_argument("--site", help="the site's name, e.g. demo (optional with --drops)")
    report.add_argument("--by", action="append", choices=reports.BREAKDOWNS, default=None,
                        help="group rows by this (repeatable; default: event)")
    report.add_argument("--from", dest="first", type=day, help="first day, YYYY-MM-DD (UTC)")
    report.add_argument("--to", dest="last", type=day, help="last day, YYYY-MM-DD (UTC)")
    report.add_argument("--days", type=int, default=30,
                        help="without --from: the last N days, today included (default 30)")
    report.add_argument("--format", choices=("table", "json", "csv"), default="table")
    report.add_argument("--min-count", type=int, default=None, metavar="N",
                        help="merge rows of label combinations counting fewer than N hits "
                             "into one (other) row (default: the site's min_count, as the "
                             "dashboard and the API do; 1 shows every row)")
    report.add_argument("--funnel", action="store_true",
                        help="impressions, clicks, CTR, conversions, conversion rate, value, "
                             "cost, CPA and ROAS per row instead of counts per event")
    report.add_argument("--drops", action="store_true",
                        help="hits not counted, per site, reason and detail, with the fix")
    report.set_defaults(run=run_report)

    cost = commands.add_parser("cost", help="record a campaign's spend for a day")
    add_store_options(cost)
    cost.add_argument("--site", required=True, help="the site's name, e.g. demo")
    cost.add_argument("--day", required=True, help="the day spent, YYYY-MM-DD (UTC)")
    cost.add_argument("--amount", required=True, help="spend, e.g. 120.50; again replaces it")
    cost.add_argument("--currency", help="ISO 4217 code (default: the site's currency)")
    cost.add_argument("--link", help="a click link of the site: its source, medium, campaign")
    cost.add_argument("--source", help="utm_source of the campaign, e.g. newsletter")
    cost.add_argument("--medium", help="utm_medium of the campaign, e.g. email")
    cost.add_argument("--campaign", help="utm_campaign, e.g. spring-sale")
    cost.set_defaults(run=run_cost)

    secret = commands.add_parser("secret", help="rotate the generated admin secret")
    secret.add_argument("action", choices=("rotate",),
                        help="rotate: write a new secret where serve keeps it and end every "
                             "session; running collectors use it from their next request")
    add_store_options(secret)
    secret.set_defaults(run=run_secret)

    audit = commands.add_parser("audit", help="check consent and pixels on pages, in headless "
                                              "Chromium")
    audit.add_argument("urls", nargs="+", metavar="URL",
                       help="pages to audit, with the consentpixel tag or any consent manager")
    audit.add_argument("--pages", type=int, default=1,
                       help="pages per URL, following same-site links (default 1)")
    audit.add_argument("--live", action="store_true",
                       help="let pixels and tracker beacons through: they will be counted")
    audit.add_argument("--trackers", metavar="FILE",
                       help="more trackers, cookies and storage keys to know (TOML)")
    audit.add_argument("--json", metavar="FILE", type=Path, help="write the report as JSON")
    audit.add_argument("--html", metavar="DIR", type=Path,
                       help="write an HTML report with screenshots into DIR")
    audit.add_argument("--timeout", type=float, default=30.0,
                       help="seconds any one wait may take: a page's load, the tag's start, "
                            "the banner (default 30)")
    audit.add_argument("--settle", type=float, default=0.5,
                       help="seconds without a new request that end a step (default 0.5)")
    audit.set_defaults(run=run_audit)
    return parser


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=os.environ.get("CONSENTPIXEL_CONFIG"),
                        help="the TOML config (default: CONSENTPIXEL_CONFIG, else "
                             f"./{CONFIG_FILE} if there is one, else the demo site)")
    parser.add_argument("--db", default=os.environ.get("CONSENTPIXEL_DB"),
                        help="database URL, overrides the config's (default "
                             f"{COLLECTOR_DEFAULTS['db']}; "
                             "CONSENTPIXEL_DB)")


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-28") from None


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535")
    return int(text)


def port_of(args: argparse.Namespace) -> int:
    """--port, else CONSENTPIXEL_PORT, else 8000."""
    if args.port is not None:
        return int(args.port)
    text = os.environ.get("CONSENTPIXEL_PORT", "8000")
    try:
        return port_number(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"CONSENTPIXEL_PORT: {exc}") from None


def config_path(given: str | None) -> str | None:
    """--config (or CONSENTPIXEL_CONFIG), else ./consentpixel.toml if there is one."""
    if given:
        return given
    return CONFIG_FILE if Path(CONFIG_FILE).is_file() else None


def load_config(args: argparse.Namespace) -> Config:
    return demo.config_or_demo(config_path(args.config), args.db)


def existing_store(config: Config) -> Store:
    """The config's store, which must exist: reading never creates a database."""
    try:
        return open_store(config.db, create=False)
    except NoStore as exc:
        if not config.demo:
            raise
        raise NoStore(f"{exc} (no --config, CONSENTPIXEL_CONFIG or ./{CONFIG_FILE}: "
                      "this is the demo site's store)") from None


# -- serve ------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    from . import serving  # uvicorn and the app load only when the collector runs

    try:
        serving.serve(config_path(args.config), args.db, args.host, port_of(args),
                      args.workers)
    except serving.ServeError as exc:
        raise UsageError(str(exc)) from None


# -- init and check ------------------------------------------------------------------


def run_init(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; use --force to overwrite it")
    path.write_text(starter(), encoding="utf-8")
    config_module.load(path)  # what we write must load
    print(f"wrote {path}: edit it, then run: consentpixel serve --config {path}")


def starter() -> str:
    def toml(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else (
            "true" if value else "false")

    def block(table: tuple[settings.Setting, ...], overrides: dict[str, Any]) -> list[str]:
        out = []
        for setting in table:
            out.append(f"# {setting.help}")
            value = overrides.get(setting.name, setting.default)
            if setting.name in overrides or setting.name in ("mode", "count_automation"):
                out.append(f"{setting.name} = {toml(value)}")
            elif isinstance(value, dict):
                out.append(f"# {setting.name} = {{ }}")
            else:
                out.append(f"# {setting.name} = {toml(value)}")
        return out

    lines = ["# consentpixel configuration. Every setting is listed with its default;",
             "# uncomment a line to change it. Check the file with: consentpixel check FILE",
             "", "[collector]"]
    lines += block(settings.COLLECTOR, {})
    lines += ["", "# One table per site; its name is the tag's site: t.js?site=shop.",
              "[sites.shop]"]
    lines += block(settings.SITE, {"origins": ["https://shop.example"]})
    lines += ["", "# Consent categories ('necessary' is built in and always on). Built-in",
              "# texts exist for analytics and ads in en, de, fr and es.",
              "[sites.shop.categories.analytics]", 'cookies = ["_ga*"]', "",
              "[sites.shop.categories.ads]", 'cookies = ["_gcl*", "_fbp"]', "",
              "# Custom events and the category each needs:",
              "[sites.shop.events]", 'webinar_signup = "ads"', "",
              "# Click links: /go/shop/spring-sale counts a click and redirects here.",
              "[sites.shop.links.spring-sale]", 'url = "https://shop.example/sale"',
              'source = "newsletter"', 'medium = "email"', 'campaign = "spring-sale"', "",
              "# Banner texts per language (optional; built-in texts otherwise).",
              "# [sites.shop.text.en]", '# title = "Your privacy choices"', ""]
    return "\n".join(lines)


def run_check(args: argparse.Namespace) -> None:
    config = config_module.load(args.config)
    print(f"{args.config}: ok ({', '.join(sorted(config.sites))})")


# -- report ---------------------------------------------------------------------------


def run_report(args: argparse.Namespace) -> None:
    config = load_config(args)
    if args.days < 1:
        raise UsageError("--days must be 1 or more")
    if args.min_count is not None and args.min_count < 0:
        raise UsageError("--min-count must be 0 or more")
    if args.first:
        period = reports.Period.days(args.first, args.last or date.today())
    else:
        period = reports.Period.last(args.days)
    if args.drops:
        return report_drops(args, config, period)
    if not args.site:
        raise UsageError(f"name the site: --site {' or --site '.join(config.sites)}")
    site = known_site(config, args.site)
    if args.min_count is not None:
        site = replace(site, min_count=args.min_count)
    store = existing_store(config)
    try:
        if args.funnel:
            report = reports.funnel(store, site, period, args.by or ["campaign"])
            rows = [row.as_dict() if args.format == "json" else row.flat(report.currencies())
                    for row in report.rows]
            columns, merged = report.columns(), report.merged
        else:
            rows, merged = reports.event_counts(store, site, period, args.by or ["event"])
            columns = [*(group for group in args.by or [] if group != "event"),
                       "event", "count", "value", "currency"]
        dropped = 0 if rows else sum(row.count for row in reports.not_counted(
            store, config, site.name, period))
    finally:
        store.close()
    print_rows(rows, columns, args.format)
    if dropped:
        print(f"consentpixel: {dropped} hits were received but not counted in this period; "
              "the same command with --drops says why", file=sys.stderr)
    note = reports.merge_note(merged, site.min_count)
    if note:  # on stderr, so that JSON and CSV on stdout stay data
        print(f"consentpixel: {note}; --min-count 1 shows every row", file=sys.stderr)


def report_drops(args: argparse.Namespace, config: Config, period: reports.Period) -> None:
    if args.site:
        known_site(config, args.site)
    store = existing_store(config)
    try:
        rows = [row.as_dict() for row in reports.not_counted(store, config, args.site, period)]
    finally:
        store.close()
    if not rows and args.format == "table":
        print("every hit received in this period was counted")
        return
    columns = ["site", "reason", "count", "fix"] if args.format == "table" else [
        "site", "reason", "detail", "count", "fix"]
    print_rows(rows, columns, args.format)


def known_site(config: Config, name: str) -> config_module.Site:
    if name not in config.sites:
        raise UsageError(f"no site {name!r} in the config ({', '.join(config.sites)})")
    return config.sites[name]


def run_cost(args: argparse.Namespace) -> None:
    config = load_config(args)
    site = known_site(config, args.site)
    fields = {name: getattr(args, name) for name in
              ("day", "amount", "currency", "link", "source", "medium", "campaign")}
    try:
        cost = costs.parse_cost(site, {k: v for k, v in fields.items() if v is not None})
    except reports.InputError as exc:
        raise UsageError(f"--{exc}") from None
    store = existing_store(config)
    try:
        costs.record_cost(store, site, cost)
    finally:
        store.close()
    print(f"recorded {cost.amount} {cost.currency} for {cost.source} / {cost.medium} / "
          f"{cost.campaign} on {cost.day}")


def print_rows(rows: list[dict[str, Any]], columns: list[str], form: str) -> None:
    if form == "json":
        print(json.dumps(rows, default=lambda v: float(v) if isinstance(v, Decimal) else str(v),
                         indent=2, ensure_ascii=False))
    elif form == "csv":
        sys.stdout.write(reports.csv_text(rows, columns))
    elif not rows:
        print("no counts in this period")
    else:
        cells = [["" if row.get(c) is None else str(row[c]) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        numeric = {c for c in columns if all(isinstance(row.get(c), (int, float, Decimal))
                                             or row.get(c) is None for row in rows)}
        for line in [columns, ["-" * w for w in widths], *cells]:
            print("  ".join(text.rjust(w) if columns[i] in numeric else text.ljust(w)
                            for i, (text, w) in enumerate(zip(line, widths, strict=True))).rstrip())


# -- secret ---------------------------------------------------------------------------


def run_secret(args: argparse.Namespace) -> None:
    config = load_config(args)
    path = admin_secret.rotate(config)
    print(f"a new admin secret is in {path.resolve()} (mode 0600); running collectors "
          "check it from their next request")
    # Sessions are keyed with the secret, so the new one has already ended them; this
    # clears them from the store too.
    store = open_store(config.db)
    try:
        print(f"{store.end_sessions()} dashboard sessions ended")
    finally:
        store.close()


# -- audit ----------------------------------------------------------------------------


def run_audit(args: argparse.Namespace) -> None:
    from .audit import browser, report, trackers  # Playwright loads only when it runs

    for url in args.urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url!r} is not an http or https URL")
    if args.pages < 1 or args.timeout <= 0 or args.settle < 0:
        raise UsageError("--pages must be 1 or more, --timeout above 0, --settle 0 or more")
    try:
        known = trackers.load(args.trackers) if args.trackers else trackers.BUILTIN
    except trackers.TrackersError as exc:
        raise UsageError(str(exc)) from None
    options = browser.Options(live=args.live, pages=args.pages, timeout=args.timeout,
                              settle=args.settle, trackers=known,
                              screenshots=args.html / "screenshots" if args.html else None)
    try:
        result = browser.run(args.urls, options,
                             lambda line: print(line, file=sys.stderr, flush=True))
    except browser.AuditError as exc:
        raise UsageError(str(exc)) from None
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print(report.terminal(result, color), flush=True)
    for page in result.pages:
        if page.error:
            print(f"consentpixel: {page.url}: {page.error}", file=sys.stderr)
    try:
        if args.json:
            report.write_json(result, args.json)
        if args.html:
            print(f"HTML report: {report.write_html(result, args.html)}", file=sys.stderr)
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror or exc}: "
                         f"{exc.filename or ''}") from None
    sys.exit(0 if result.passed else 1)
