"""Real collectors for integration tests: `consentpixel serve` processes, real HTTP load,
and a private PostgreSQL server a test may stop and start.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Awaitable, Callable
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from consentpixel.store import open_store

from .helpers import ORIGIN

SECRET = "integration-secret"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0"
GIF_LENGTH = 43


def config_file(directory: Path, db: str, **collector: Any) -> Path:
    """A config for the site `demo` that counts hits from loopback pages and test clients."""
    lines = ["[collector]", f"db = {json.dumps(db)}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in collector.items()]
    lines += ["[sites.demo]", 'origins = ["http://127.0.0.1:*", "http://localhost:*"]',
              "count_automation = true",
              "crowd_clients = 1"]  # the tests' hits come from one address: keep every path
    path = directory / f"collector-{time.time_ns()}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class ServeProcess:
    """`python -m consentpixel serve` on a free port; its output is kept for failures.

    The admin secret comes from the environment, SECRET unless told otherwise (None: no
    secret in the environment, so the config's or the kept one). file_limit, if given,
    is the process's limit of open files.
    """

    def __init__(self, *args: str, secret: str | None = SECRET,
                 file_limit: int | None = None) -> None:
        self.secret = secret
        env = {k: v for k, v in os.environ.items() if k != "CONSENTPIXEL_ADMIN_SECRET"}
        if secret is not None:
            env["CONSENTPIXEL_ADMIN_SECRET"] = secret
        self.process = subprocess.Popen(
            [sys.executable, "-m", "consentpixel", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            preexec_fn=None if file_limit is None else lambda: limit_files(file_limit))
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.output = [first]
        self.reader = threading.Thread(target=self.drain, daemon=True)
        self.reader.start()
        if "collecting on " not in first:
            self.stop()
            raise AssertionError("the collector did not start:\n" + self.log())
        self.url = first.split("collecting on ", 1)[1].strip()
        self.wait_until(lambda: self.health() is not None, "answering")

    def drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def log(self) -> str:
        return "".join(self.output)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()

    def health(self) -> dict[str, Any] | None:
        """/healthz, with its details when the admin secret is known."""
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        try:
            return dict(json.loads(self.get("/healthz", headers)[1]))
        except OSError:
            return None

    def wait_until(self, condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the collector never got {what}:\n" + self.log())
            time.sleep(0.05)

    def signal(self, number: int) -> int:
        """Send a signal and wait for the exit status."""
        self.process.send_signal(number)
        return self.wait()

    def wait(self) -> int:
        try:
            status = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("the collector did not exit:\n" + self.log()) from None
        self.reader.join(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.wait()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def limit_files(count: int) -> None:
    """In a child before exec: at most count open files, soft and hard."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def call(client: TestClient, function: Callable[[], Awaitable[bool]]) -> bool:
    """Run a coroutine function on a TestClient app's event loop, as the app would."""
    assert client.portal is not None
    return client.portal.call(function)


def pixel(path: str = "/", site: str = "demo", **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"s": site, "e": "pageview",
                                             "a": "analytics-ads", "p": path,
                                             **params}.items())
    return f"/p.gif?{query}"


class Load:
    """Threads sending hits over keep-alive connections until stopped (or a count is
    reached), counting the hits answered: a 200 with the whole GIF."""

    def __init__(self, url: str, targets: list[str], threads: int = 4,
                 each: int | None = None) -> None:
        self.url = url
        self.targets = targets
        self.each = each
        self.stopping = threading.Event()
        self.answered = [0] * threads
        self.by_target: list[Counter[str]] = [Counter() for _ in range(threads)]
        self.workers = [threading.Thread(target=self.run, args=(index,))
                        for index in range(threads)]
        for worker in self.workers:
            worker.start()

    def run(self, index: int) -> None:
        parts = urlsplit(self.url)
        connection: http.client.HTTPConnection | None = None
        sent = 0
        while not self.stopping.is_set() and (self.each is None or sent < self.each):
            target = self.targets[(index + sent) % len(self.targets)]
            sent += 1
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                                            timeout=10)
                connection.request("GET", target, headers={"Referer": ORIGIN + "/",
                                                           "User-Agent": AGENT})
                response = connection.getresponse()
                if response.status == 200 and len(response.read()) == GIF_LENGTH:
                    self.answered[index] += 1
                    self.by_target[index][target] += 1
            except (OSError, http.client.HTTPException):
                # Refused or cut off (a collector shutting down): not answered.
                if connection is not None:
                    connection.close()
                connection = None
                if self.each is None:
                    time.sleep(0.01)
        if connection is not None:
            connection.close()

    def stop(self) -> int:
        self.stopping.set()
        return self.join()

    def join(self) -> int:
        for worker in self.workers:
            worker.join(timeout=120)
        return sum(self.answered)

    def by_path(self) -> Counter[str]:
        """Hits answered per path (the p parameter of each target)."""
        found: Counter[str] = Counter()
        for counts in self.by_target:
            for target, count in counts.items():
                found[parse_qs(urlsplit(target).query)["p"][0]] += count
        return found


def stored_hits(db: str, site: str = "demo") -> int:
    store = open_store(db)
    try:
        return sum(row[-2] for row in store.totals(site, 0, 2**40, []))
    finally:
        store.close()


def stored_by_path(db: str, site: str = "demo") -> dict[str, int]:
    store = open_store(db)
    try:
        found: dict[str, int] = {}
        for path, _, _, count, _ in store.totals(site, 0, 2**40, ["path"]):
            found[path] = found.get(path, 0) + count
        return found
    finally:
        store.close()


class PrivatePostgres:
    """A PostgreSQL server of our own, so a test can stop it without disturbing others.

    Made with initdb in a temporary directory, listening only on a unix socket there;
    as root it runs as the postgres user (the server refuses to run as root).
    """

    def __init__(self) -> None:
        self.bin = find_postgres_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="consentpixel-pg-"))
        self.data = self.directory / "data"
        self.port = 5432
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres",
                 "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        self.url = f"postgresql://postgres@/postgres?host={self.directory}&port={self.port}"
        self.start()

    def run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bin / tool), *args],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"{tool} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        options = (f"-k {self.directory} -c listen_addresses='' -p {self.port} "
                   "-c fsync=off -c max_connections=40")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"),
                 "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: connections are cut, as when an operator restarts the server."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except AssertionError:
            pass  # already stopped
        shutil.rmtree(self.directory, ignore_errors=True)


def find_postgres_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not versions:
        raise FileNotFoundError("pg_ctl not found")
    return versions[-1].parent
