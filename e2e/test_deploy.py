"""The shipped deployment, run: nginx with deploy/nginx/consentpixel.conf in front of the
real collector, real Chromium through it; and the systemd unit, checked.

The nginx configuration is the shipped file with only this machine's details changed
(ports on loopback, a certificate of the test's own, a cache directory in tmp): TLS,
HTTP/2, the headers it forwards and the caching are the file's own. The collector
trusts it (forwarded_allow_ips) and reaches its clients through it.
"""

from __future__ import annotations

import http.client
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Response

from .conftest import CollectorProcess, PageServer, Visit, start_collector
from .test_consent import choose

ROOT = Path(__file__).parents[1]
SITE = ROOT / "deploy" / "nginx" / "consentpixel.conf"
UNIT = ROOT / "deploy" / "consentpixel.service"
LIMIT = 5  # hits a minute per client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not found:
        pytest.fail("nginx is not installed: `make nginx` installs it")
    return found


def for_this_machine(text: str, upstream: str, http_port: int, https_port: int,
                     directory: Path) -> str:
    """The shipped site configuration with this machine's details, and nothing else."""
    changes = [
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("/var/cache/nginx/consentpixel", str(directory / "cache")),
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("/etc/letsencrypt/live/collect.example/fullchain.pem", str(directory / "cert.pem")),
        ("/etc/letsencrypt/live/collect.example/privkey.pem", str(directory / "key.pem")),
    ]
    for old, new in changes:
        assert text.count(old) == 1, f"{SITE} no longer has {old!r} once: update this test"
        text = text.replace(old, new)
    return text


def error_log(directory: Path) -> str:
    path = directory / "error.log"
    return path.read_text() if path.exists() else ""


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def start_nginx(directory: Path, http: str, port: int) -> subprocess.Popen[str]:
    """nginx in a directory of its own, with `http` inside its http block, once it
    answers on the loopback port."""
    # As root, nginx's workers would run as nobody, who cannot enter pytest's tmp.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (directory / "nginx.conf").write_text(
        f"{user}\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n{temp}\n{http}\n}}\n")
    command = [nginx_binary(), "-p", str(directory), "-c", str(directory / "nginx.conf"),
               "-e", str(directory / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 10
    while not answers(port):
        assert process.poll() is None, error_log(directory)
        assert time.monotonic() < deadline, error_log(directory)
        time.sleep(0.05)
    return process


def stop_nginx(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()


class Nginx:
    """nginx running the shipped site configuration, in a directory of its own."""

    def __init__(self, directory: Path, upstream: str, https_port: int) -> None:
        self.directory = directory
        self.http_port, self.https_port = free_port(), https_port
        self.url = f"https://127.0.0.1:{self.https_port}"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
                       check=True, capture_output=True)
        site = for_this_machine(SITE.read_text(), upstream, self.http_port, self.https_port,
                                directory)
        (directory / "site.conf").write_text(site)
        self.process = start_nginx(directory, f"    include {directory / 'site.conf'};",
                                   self.https_port)

    def request(self, path: str, source: str = "127.0.0.1",
                headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """A request through nginx over TLS, from a loopback address of the caller's choice."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=10,
                                                 context=context, source_address=(source, 0))
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def stop(self) -> None:
        stop_nginx(self.process)


@pytest.fixture
def deployed(tmp_path: Path, pages: PageServer) -> Iterator[tuple[CollectorProcess, Nginx]]:
    """The collector behind nginx, which it trusts, with a click link to a fixture page."""
    https_port = free_port()
    config = f"""
[collector]
forwarded_allow_ips = ["127.0.0.1"]
public_url = "https://127.0.0.1:{https_port}"

[sites.demo]
origins = ["http://localhost:*", "https://127.0.0.1"]
count_automation = true
rate_limit = {LIMIT}
crowd_clients = 1  # each path here comes from one client: keep it as sent

[sites.demo.links.spring]
url = "{pages.page('shop.html')}"
source = "newsletter"
medium = "email"
campaign = "spring"
"""
    collector = start_collector(tmp_path, config)
    (tmp_path / "nginx").mkdir()
    proxy = None
    try:
        proxy = Nginx(tmp_path / "nginx", collector.url.removeprefix("http://"), https_port)
        yield collector, proxy
    finally:
        if proxy is not None:
            proxy.stop()
        collector.stop()


def paths(collector: CollectorProcess) -> dict[str, int]:
    return {row["path"]: row["count"] for row in collector.report("demo", "path")
            if row["event"] == "pageview"}


def test_behind_the_shipped_nginx(browser: Browser, pages: PageServer,
                                  deployed: tuple[CollectorProcess, Nginx]) -> None:
    collector, proxy = deployed
    pages.collector = proxy.url
    context = browser.new_context(ignore_https_errors=True)
    try:
        # The tag loads through nginx, the visitor accepts, the page view counts.
        seen = Visit(context.new_page(), collector)
        tag: list[tuple[str, int]] = []

        def through_nginx(response: Response) -> None:
            if response.url.startswith(proxy.url):
                tag.append((response.url.removeprefix(proxy.url).split("?")[0], response.status))

        seen.page.on("response", through_nginx)
        seen.page.goto(pages.page("shop.html"))
        choose(seen, "accept")
        # The click link counts the click and sends the visitor on, labelled.
        seen.page.goto(f"{proxy.url}/go/demo/spring")
        assert seen.page.url.startswith(pages.page("shop.html") + "?")
        assert "utm_campaign=spring" in seen.page.url
        seen.page.wait_for_load_state("networkidle")
        assert {("/t.js", 200), ("/p/demo.js", 200)} <= set(tag), tag
        assert seen.errors == []
        collector.wait_for(lambda: collector.counts().get("click") == 1 and
                           paths(collector).get("/shop.html") == 2)
    finally:
        context.close()

    # Each client is limited on its own address, whatever it forwards itself.
    hits = {"127.0.0.2": "", "127.0.0.3": "", "127.0.0.4": "X-Forwarded-For"}
    for source, forged in hits.items():
        for n in range(LIMIT + 3):
            headers = {"Referer": "http://localhost:9/"}
            if forged:
                headers[forged] = f"198.51.100.{n}"
            path = f"/p.gif?s=demo&e=pageview&a=analytics&p=/from-{source.rsplit('.', 1)[1]}"
            assert proxy.request(path, source, headers).status == 200
    collector.wait_for(lambda: {path: count for path, count in paths(collector).items()
                                if path.startswith("/from-")} ==
                       {"/from-2": LIMIT, "/from-3": LIMIT, "/from-4": LIMIT})
    assert paths(collector)["/shop.html"] == 2  # the browser's own allowance untouched

    # The tag's files are kept by nginx as the collector says; plain HTTP is sent to
    # HTTPS; redirects are built from the public URL, not the Host a client names.
    for path in ("/t.js?site=demo", "/s/demo.css", "/p/demo.js?b=en"):
        first, second = (proxy.request(path, headers={"Referer": "http://localhost:9/"})
                         for _ in range(2))
        assert (first.getheader("x-cache-status"), second.getheader("x-cache-status")) == (
            "MISS", "HIT"), path
        assert "public, max-age=300" == second.getheader("cache-control"), path
    # The tag for a page on the collector's host depends on the visitor's cookies: nginx
    # keeps none of it.
    mine = [proxy.request("/t.js?site=demo", headers={"Referer": "https://127.0.0.1/shop.html"})
            for _ in range(2)]
    assert [r.getheader("cache-control") for r in mine] == ["private, max-age=300"] * 2
    assert [r.getheader("x-cache-status") for r in mine] == ["MISS", "MISS"]
    # … and never hands one page origin's answer to another: one the site does not list
    # gets its own, with the warning, and nginx keeps none of it.
    elsewhere = [proxy.request("/t.js?site=demo", headers={"Referer": "https://elsewhere.example/"})
                 for _ in range(2)]
    assert [r.getheader("cache-control") for r in elsewhere] == ["no-store", "no-store"]
    assert "HIT" not in [r.getheader("x-cache-status") for r in elsewhere]
    plain = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    plain.request("GET", "/t.js")
    moved = plain.getresponse()
    assert moved.status == 301 and (moved.getheader("location") or "").startswith("https://")
    plain.close()
    redirect = proxy.request("/dashboard/", headers={"Host": "evil.example"})
    assert redirect.getheader("location") == f"{proxy.url}/dashboard"


# -- the systemd unit -----------------------------------------------------------------------


def unit_settings() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        name, equals, value = line.partition("=")
        if equals and not line.startswith("#"):
            found[name.strip()] = value.strip()
    return found


def test_the_systemd_unit_runs_as_a_service_should() -> None:
    unit = unit_settings()
    assert unit["User"] != "root" and unit["Restart"] == "on-failure"
    assert unit["KillSignal"] == "SIGTERM"  # the signal on which the collector writes its counts
    assert int(unit["TimeoutStopSec"]) > 30  # longer than it keeps trying an absent store
    assert int(unit["LimitNOFILE"]) >= 4096 + 64  # max_connections and the spare descriptors
    assert "--host 127.0.0.1 --port 8000" in unit["ExecStart"]  # where nginx's upstream is
    assert "server 127.0.0.1:8000;" in SITE.read_text()


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (systemd's own tool): the unit is "
                    "checked where it is")
    # The unit as installed: its command where this checkout's consentpixel is.
    installed = tmp_path / "consentpixel.service"
    command = Path(sys.executable).parent / "consentpixel"
    installed.write_text(UNIT.read_text().replace("/opt/consentpixel/bin/consentpixel",
                                                  str(command)))
    done = subprocess.run([tool, "verify", str(installed)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
