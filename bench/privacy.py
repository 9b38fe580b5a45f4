"""The privacy run: the whole corpus of realistic personal data, before and after.

    python -m bench.privacy [--per-cell 2] [--tag 240] [--before d7bb6f8] [--k 3]

Plants every kind of personal data (tests/pii_corpus.py: Faker, twelve locales) in
every place of a hit and in several encodings, and non-personal values beside them;
sends them as pixel requests from distinct client addresses (127.0.0.2, …) to a real
`consentpixel serve`, and a sample through the real tag in Chromium; then searches the
store's bytes, the log, the API and the CSV for every value and its obvious fragments.
It does so for this checkout and for the commit given as --before (the code is taken
with `git archive` and run from a temporary directory), with the same corpus, and
prints the tables of docs/privacy.md, by place and by kind. Last, the cost per hit of
the rules and the crowd, measured in process on the benchmark's shop traffic.
Nothing here is asserted: tests/test_privacy_corpus.py and e2e/test_privacy.py do that.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests import pii_corpus as corpus
from tests.servers import SECRET, ServeProcess

from . import mix

ROOT = Path(__file__).parents[1]
ROUNDS = 3
TAG_PLACES = ("path", "utm_source", "utm_medium", "utm_campaign", "utm_content",
              "referrer_url", "query", "fragment")


@dataclass
class Side:
    """One collector's code: this checkout, or a commit run from a copy of its tree."""

    name: str
    pythonpath: str = ""  # empty for this checkout
    crowd: bool = True  # the commit knows the crowd rule's settings

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env


def main() -> None:
    args = parse()
    plantings = corpus.build(seed=args.seed, per_cell=args.per_cell, k=args.k)
    rng = random.Random(args.seed)
    tagged = rng.sample([p for p in plantings if p.personal and p.place in TAG_PLACES
                         and not p.limit], args.tag) if args.tag else []
    print(f"consentpixel privacy run, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC: "
          f"{len(plantings):,} plantings sent directly "
          f"({sum(p.clients for p in plantings):,} hits), {len(tagged)} through the tag; "
          f"k = {args.k}", flush=True)
    with tempfile.TemporaryDirectory(prefix="consentpixel-privacy-") as scratch:
        before = checkout(args.before, Path(scratch))
        after = Side("after")
        results = {}
        for side in (before, after):
            results[side.name] = run(side, plantings, args.k, Path(scratch), args.seed)
            if tagged:
                results[side.name + " tag"] = run_tag(side, tagged, args.k, Path(scratch))
                if side.crowd:
                    results[side.name + " tag k=1"] = run_tag(side, tagged, 1, Path(scratch))
        print()
        print(report(results, plantings, tagged, args.k))
        print()
        print(costs(before, after))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.privacy",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--per-cell", type=int, default=2,
                        help="values per kind, place and locale")
    parser.add_argument("--tag", type=int, default=240,
                        help="plantings sent through the tag in Chromium (0: none)")
    parser.add_argument("--before", default="d7bb6f8", help="the commit to compare with")
    parser.add_argument("--k", type=int, default=3, help="crowd_clients of the run")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def checkout(commit: str, scratch: Path) -> Side:
    """The collector of commit, importable as consentpixel from a directory of its own."""
    tree = scratch / f"tree-{commit}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", commit, "server", "static"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    (tree / "server" / "static").symlink_to(tree / "static")
    shim = scratch / f"shim-{commit}"
    shim.mkdir()
    (shim / "consentpixel").symlink_to(tree / "server")
    knows = "crowd_clients" in (tree / "server" / "settings.py").read_text()
    return Side(f"before ({commit})", str(shim), knows)


def serve(side: Side, config: Path) -> ServeProcess:
    original = os.environ.copy()
    os.environ.update(side.environment())  # ServeProcess passes os.environ on
    try:
        return ServeProcess("--config", str(config))
    finally:
        os.environ.clear()
        os.environ.update(original)


def run(side: Side, plantings: list[corpus.Planting], k: int, scratch: Path, seed: int
        ) -> list[corpus.Result]:
    db = f"sqlite:///{scratch / f'{side.name.split()[0]}-direct.db'}"
    started = time.monotonic()
    texts, stored = collect(side, plantings, k, db, lambda url: corpus.send(
        url, plantings, "http://127.0.0.1:8000", random.Random(seed)))
    results = corpus.search(plantings, texts, corpus.allowed(plantings, db), k)
    corpus.altered(results, stored)
    print(f"  {side.name}: sent and searched in {time.monotonic() - started:.0f} s",
          flush=True)
    return results


def collect(side: Side, plantings: list[corpus.Planting], k: int, db: str,
            send: Callable[[str], object]) -> tuple[dict[str, bytes], set[str]]:
    """Send with a collector of side's code, then what it kept: texts, stored labels."""
    config = Path(db[len("sqlite:///"):]).with_suffix(".toml")
    config.write_text(corpus.site_config(db, k if side.crowd else None,
                                         corpus.campaign_list(plantings)))
    server = serve(side, config)
    try:
        send(server.url)
        server.wait_until(lambda: (server.health() or {}).get("buffered_cells") == 0,
                          "its buffer written")
        texts = {"api": corpus.api_texts(server.url, SECRET)}
    finally:
        server.stop()
    texts["log"] = server.log().encode()
    texts["store"] = corpus.store_bytes(db)
    return texts, corpus.stored_values(db)


def run_tag(side: Side, tagged: list[corpus.Planting], k: int, scratch: Path
            ) -> list[corpus.Result]:
    """The sample through the tag in Chromium: one browser, one client."""
    db = f"sqlite:///{scratch / f'{side.name.split()[0]}-tag-{k}.db'}"
    texts, stored = collect(side, tagged, k, db, lambda url: browse(url, tagged, scratch))
    results = corpus.search(tagged, texts, corpus.allowed(tagged, db), k)
    print(f"  {side.name}, through the tag (k = {k}): done", flush=True)
    return results


def browse(url: str, tagged: list[corpus.Planting], scratch: Path) -> None:
    from urllib.parse import quote, urlencode

    from playwright.sync_api import sync_playwright

    from consentpixel.audit.chromium import CHROMIUM_ARGS, chromium_path
    from consentpixel.testing import PageServer

    pages_dir = scratch / "pages"
    pages_dir.mkdir(exist_ok=True)
    (pages_dir / "corpus.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Account</title>'
        f'<script async src="{{{{collector}}}}/t.js?site={corpus.SITE}"></script>'
        "</head><body><h1>Your account</h1></body></html>")
    pages = PageServer(pages_dir)
    pages.collector = url
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                 args=CHROMIUM_ARGS)
            page = browser.new_context().new_page()
            for index in range(0, len(tagged), 10):
                batch = tagged[index:index + 10]
                params = {p.place: p.encoded() for p in batch if p.place.startswith("utm_")}
                params.update({"email": p.encoded() for p in batch if p.place == "query"})
                fragment = next((p.encoded() for p in batch if p.place == "fragment"), "top")
                search = next((p.encoded() for p in batch if p.place == "referrer_url"), "")
                page.goto(pages.page("corpus.html") + "?" + urlencode(params) + "#" +
                          quote(fragment), referer="https://mail.example.net/inbox?search=" +
                          quote(search, safe=""))
                if index == 0:
                    page.get_by_role("button", name="Accept all").click()
                page.wait_for_function("window.cpx && cpx('consent').decided")
                for planting in batch:
                    if planting.place == "path":
                        path = corpus.path_for(planting.kind, quote(planting.encoded(), safe=""))
                        page.evaluate("p => history.pushState({}, '', p)", path)
                page.wait_for_timeout(100)
            page.wait_for_timeout(500)
            browser.close()
    finally:
        pages.close()


# -- the tables ------------------------------------------------------------------------

def report(results: dict[str, list[corpus.Result]], plantings: list[corpus.Planting],
           tagged: list[corpus.Planting], k: int) -> str:
    names = list(results)
    before, after = names[0], next(name for name in names if name == "after")
    parts = [f"Direct pixel requests ({len(plantings):,} plantings), found in the store, "
             "log, API or CSV (personal values) or altered (values that are not personal):"]
    for title, group in (("where", corpus.place_of), ("kind", corpus.kind_of)):
        parts.append("")
        parts.append(compare(results[before], results[after], group, title, k))
    tag_names = [name for name in names if name.endswith(("tag", "tag k=1"))]
    if tag_names:
        parts.append("")
        parts.append(f"Through the tag in Chromium ({len(tagged)} plantings from one "
                     "browser, so one client), found:")
        parts.append("")
        parts.append(tag_table({name: results[name] for name in tag_names}))
    return "\n".join(parts)


def compare(before: list[corpus.Result], after: list[corpus.Result],
            group: Callable[[corpus.Planting], str], title: str, k: int) -> str:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for side, results in (("b", before), ("a", after)):
        for result in results:
            planting = result.planting
            if planting.limit and group is corpus.place_of:
                continue  # the limit has a row of its own, by kind
            row = rows[group(planting)]
            if not planting.personal:
                column = "thing"
            elif planting.limit:
                column = "limit"
            else:
                column = "all" if side == "b" else ("rare" if planting.clients < k else "crowd")
            row[f"{side}{column}_n"] += 1
            allowed = side == "a" and corpus.expected_leaks(result)
            if result.found and not allowed:
                row[f"{side}{column}"] += 1
    lines = [f"| {title} | before: found | after, sent by < k clients: found | after, sent by "
             "≥ k clients: found | before: altered | after: altered |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in sorted(rows):
        row = rows[name]
        if row["alimit_n"]:
            lines.append(f"| {name} | {corpus.share(row['blimit'], row['blimit_n'])} | — | "
                         f"{corpus.share(row['alimit'], row['alimit_n'])} | — | — |")
            continue
        before_found = corpus.share(row["ball"], row["ball_n"])
        cells = [before_found, corpus.share(row["arare"], row["arare_n"]),
                 corpus.share(row["acrowd"], row["acrowd_n"]),
                 corpus.share(row["bthing"], row["bthing_n"]),
                 corpus.share(row["athing"], row["athing_n"])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tag_table(results: dict[str, list[corpus.Result]]) -> str:
    names = list(results)
    lines = ["| where | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    places = sorted({r.planting.place for rs in results.values() for r in rs})
    for place in [*places, "all places"]:
        cells = []
        for name in names:
            chosen = [r for r in results[name] if place in (r.planting.place, "all places")]
            strict = name.endswith("k=1")  # every value a crowd: only strict kinds count
            counted = [r for r in chosen if not strict or r.planting.kind in corpus.STRICT]
            cells.append(corpus.share(sum(1 for r in counted if r.found), len(counted)))
        lines.append(f"| {place} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the cost per hit ------------------------------------------------------------------

COST = r"""
import json, random, sys, time
from urllib.parse import urlsplit
from consentpixel import config as config_module
from consentpixel.buffer import Buffer
from consentpixel.ingest import Drop, Ingest
site = {"origins": ["http://127.0.0.1:*"], "count_automation": True, **json.loads(sys.argv[1])}
ingest = Ingest(config_module.parse({"sites": {"demo": site}}), Buffer(10**6, 10**7))
requests = [urlsplit(url).query.encode() for url in json.load(open(sys.argv[2]))]
headers = [(b"referer", b"http://127.0.0.1:8000/"), (b"user-agent", b"Mozilla/5.0 Chrome/130.0")]
rng = random.Random(1)
clients = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
           for _ in range(2000)]
now = 1_795_900_000.0
best = []
for _ in range(3):
    started = time.process_time()  # CPU time: other load on the machine counts less
    for index, query in enumerate(requests):
        try:
            ingest.pixel(query, headers, clients[index % len(clients)], now)
        except Drop:
            pass
    best.append((time.process_time() - started) / len(requests) * 1e6)
print(json.dumps(min(best)))
"""


def costs(before: Side, after: Side) -> str:
    """µs per hit in Ingest.pixel on the benchmark's shop traffic from 2,000 clients:
    as it is (15% of paths carry a new order number), and its pages only."""
    rng = random.Random(6)
    shop = [mix.fresh(url, rng) for url in mix.requests("", 20000, seed=6)]
    pages = [url for url in shop if "%2Forders%2F" not in url]
    files = []
    for requests in (shop, pages):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump(requests, file)
        files.append(file.name)
    rows = [(before.name, before, {}),
            ("after, crowd rule off (crowd_clients = 1)", after, {"crowd_clients": 1}),
            ("after, crowd rule on (crowd_clients = 3)", after, {})]
    lines = ["CPU time per hit of Ingest.pixel, in process (the best of 3 interleaved rounds "
             "of 3 passes over 20,000 hits of the benchmark's traffic, sent by 2,000 clients):",
             "",
             "| collector | shop traffic, µs per hit | its pages only, µs per hit |",
             "|---|---:|---:|"]
    best: dict[tuple[str, str], float] = {}
    for _ in range(ROUNDS):  # in turn, so that other load on the machine hits all alike
        for name, side, site in rows:
            for name_of_file in files:
                done = subprocess.run([sys.executable, "-c", COST, json.dumps(site),
                                       name_of_file], capture_output=True, text=True,
                                      env=side.environment(), cwd=ROOT, check=True)
                key = (name, name_of_file)
                best[key] = min(best.get(key, float("inf")), float(done.stdout))
    for name, _, _ in rows:
        lines.append(f"| {name} | " + " | ".join(f"{best[(name, f)]:.1f}" for f in files)
                     + " |")
    for name_of_file in files:
        os.unlink(name_of_file)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
