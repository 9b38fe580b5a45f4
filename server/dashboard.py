"""The dashboard at /dashboard: figures a marketer reads at a glance, for the admin only.

Server-rendered with autoescaped templates, under a Content-Security-Policy with no
script at all: the chart is SVG drawn on the server, the styles one stylesheet. People
sign in with the admin secret and get a session cookie (HttpOnly, SameSite=Strict)
whose session lives in the store until it expires or they sign out; every form that
changes something carries a CSRF token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode

from starlette.authentication import requires
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import auth, chart, costs, reports
from .buffer import OTHER
from .collector import collector_of
from .config import Config, Site
from .store import Store, StoreError
from .templating import templates

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "X-Frame-Options": "DENY"}
LOGIN_COOKIE = "cpx_login"
SIGN_IN = "dashboard-login"  # the route people without a session are sent to
MAX_FORM = 16 * 1024
RANGES = (7, 30, 90)
MAX_DAYS = 400  # one bar a day must stay readable; the API and the CLI take longer ranges


def page(request: Request, name: str, context: dict[str, Any], status: int = 200
         ) -> Response:
    response: Response = templates.TemplateResponse(
        request, f"dashboard/{name}", context, status_code=status)
    response.headers.update(HEADERS)
    return response


# -- signing in and out ---------------------------------------------------------------------


def login_token(secret: str, nonce: str) -> str:
    # Before a session exists, the CSRF token is bound to a random cookie instead.
    return auth.sign(secret, "login:" + nonce)


def login_page(request: Request, error: str = "", status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(16)
    token = login_token(collector_of(request).admin_secret, nonce)
    response = page(request, "login.html", {"csrf": token, "error": error}, status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path=dashboard_path(request),
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def dashboard_path(request: Request) -> str:
    """Where the sign-in form's cookie is sent back: the dashboard's pages only."""
    return request.url_for("dashboard").path


async def login(request: Request) -> Response:
    # Starlette's requires() adds ?next=; signing in always leads to the dashboard's
    # overview, so no URL from a link decides where an admin is sent.
    collector = collector_of(request)
    secret = collector.admin_secret
    if request.method == "GET":
        if auth.signed_in(request):
            return RedirectResponse(request.url_for("dashboard"), 303)
        return login_page(request)
    client, now = auth.client_of(request), auth.clock()
    wait = collector.failures.retry_after(client, now)
    if wait:  # the guess is not even looked at
        response = login_page(request, f"Too many wrong secrets from here: try again in "
                                       f"{wait} seconds.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    form = await form_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not auth.same(form.get("csrf", ""), login_token(secret, nonce)):
        return login_page(request, "The form had expired: please sign in again.", 400)
    if not auth.same(form.get("secret", ""), secret):
        collector.failures.add(client, now)
        return login_page(request, "That is not the admin secret.", 401)
    collector.failures.clear(client)
    try:
        session = await run_in_threadpool(collector.sessions.start)
    except StoreError:
        return page(request, "unavailable.html", {}, 503)
    response = RedirectResponse(request.url_for("dashboard"), 303)
    response.set_cookie(auth.COOKIE, session, max_age=collector.sessions.seconds,
                        path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path=dashboard_path(request))
    return response


async def logout(request: Request) -> Response:
    """End the session in the store, for every process that shares it, then the cookie."""
    collector = collector_of(request)
    form = await form_of(request)
    if auth.signed_in(request):
        if not auth.valid_csrf(request, collector.admin_secret, form.get("csrf", "")):
            return Response("The form had expired: go back and try again.", 400,
                            headers=HEADERS)
        try:
            await run_in_threadpool(collector.sessions.end, request.cookies.get(auth.COOKIE, ""))
        except StoreError:  # the session would outlive the sign-out: say so
            return page(request, "unavailable.html", {}, 503)
    response = RedirectResponse(request.url_for(SIGN_IN), 303)
    response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def form_of(request: Request) -> dict[str, str]:
    """A posted form's fields: our forms are small and urlencoded, nothing else is read."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=32)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(reversed(pairs))  # the first of repeated fields wins


# -- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    site: Site
    period: reports.Period

    def query(self, **extra: str) -> str:
        return urlencode({"site": self.site.name, "from": self.period.first.isoformat(),
                          "to": self.period.final.isoformat(), **extra})


def filters_of(request: Request, params: Mapping[str, str]) -> Filters:
    sites = collector_of(request).config.sites
    name = params.get("site") or next(iter(sites))
    if name not in sites:
        raise reports.InputError(f"site: there is no site {name!r}")
    period = reports.period_of(params.get("from"), params.get("to"))
    if period.day_count > MAX_DAYS:
        raise reports.InputError(f"from: the dashboard shows at most {MAX_DAYS} days at once; "
                                 "the API and `consentpixel report` show more")
    return Filters(sites[name], period)


@requires(auth.ADMIN, redirect=SIGN_IN)
async def dashboard(request: Request) -> Response:
    error, status = "", 200
    try:
        filters = filters_of(request, request.query_params)
    except reports.InputError as exc:
        error, status = str(exc), 400
        filters = filters_of(request, {})
    flash = "Spend recorded." if request.query_params.get("recorded") else ""
    return await render(request, filters, {"error": error, "flash": flash}, status)


async def render(request: Request, filters: Filters, extra: dict[str, Any],
                 status: int = 200) -> Response:
    collector = collector_of(request)
    try:
        figures = await run_in_threadpool(view, collector.store, collector.config, filters)
    except StoreError:
        return page(request, "unavailable.html", {}, 503)
    today = reports.Period.last(1).first
    ranges = [(days, Filters(filters.site, reports.Period.days(
        today - timedelta(days=days - 1), today)).query()) for days in RANGES]
    return page(request, "index.html", {
        **figures, **extra, "filters": filters, "ranges": ranges,
        "sites": sorted(collector.config.sites),
        "csrf": auth.csrf_token(request, collector.admin_secret),
        "export": f"/api/v1/sites/{filters.site.name}/campaigns?"
                  + urlencode({"from": filters.period.first.isoformat(),
                               "to": filters.period.final.isoformat(), "format": "csv"}),
    }, status)


def view(store: Store, config: Config, filters: Filters) -> dict[str, Any]:
    """Every figure the page shows, from the query layer."""
    site, period = filters.site, filters.period
    grain = "hour" if period.day_count <= 2 else "day"
    over_time = reports.funnel(store, site, period, [grain])
    campaigns = reports.funnel(store, site, period, ["source", "medium", "campaign"])
    pages = reports.funnel(store, site, period, ["path"])
    currency = main_currency(over_time.total, site)
    return {
        "total": over_time.total,
        "grain": grain,
        "currency": currency,
        "chart": chart.timeline(points(over_time, period, grain, currency)),
        "campaigns": campaigns.rows,
        "pages": [row for row in pages.rows if row.pageviews or row.conversions][:10],
        "events": reports.breakdown(store, site, period, ["event"]),
        "not_counted": reports.not_counted(store, config, site.name, period),
        "merged": {"campaigns": campaigns.note, "pages": pages.note},
        "consents": reports.consent_rates(store, site, period),
        "costs": list(reversed(costs.recorded(store, site, period)))[:10],
        "suggestions": suggestions(site, campaigns.rows),
        "is_conversion": reports.is_conversion,
    }


def main_currency(total: reports.Funnel, site: Site) -> str:
    """The currency the chart draws value in: the one most value came in."""
    if not total.value:
        return site.currency
    return max(sorted(total.value), key=lambda cur: total.value[cur])


def points(report: reports.FunnelReport, period: reports.Period, grain: str, currency: str
           ) -> list[chart.Point]:
    """One point per day or hour of the period, zero where nothing was counted."""
    rows = {row.keys[grain]: row for row in report.rows}
    step = 3600 if grain == "hour" else 86400
    series = []
    for start in range(period.start, period.end, step):
        key = reports.label(grain, start)
        row = rows.get(key)
        moment = datetime.fromtimestamp(start, timezone.utc)
        shown = moment.strftime("%m-%d %H:00" if grain == "hour" else "%Y-%m-%d")
        value = reports.major(row.value[currency], currency) if row else Decimal(0)
        series.append(chart.Point(shown, row.conversions if row else 0, value))
    return series


def suggestions(site: Site, rows: list[reports.Funnel]) -> dict[str, list[str]]:
    """Labels the cost form offers: from the site's links and the campaigns seen."""
    seen: dict[str, set[str]] = {"source": set(), "medium": set(), "campaign": set()}
    for link in site.links.values():
        for name in seen:
            seen[name].add(getattr(link, name).lower())
    for row in rows:
        if row.keys.get("campaign") not in ("", OTHER):
            for name in seen:
                seen[name].add(row.keys[name])
    return {name: sorted(value for value in values if value) for name, values in seen.items()}


@requires(auth.ADMIN, redirect=SIGN_IN)
async def record_cost(request: Request) -> Response:
    collector = collector_of(request)
    form = await form_of(request)
    if not auth.valid_csrf(request, collector.admin_secret, form.get("csrf", "")):
        return Response("The form had expired: go back and try again.", 400, headers=HEADERS)
    try:
        filters = filters_of(request, form)
    except reports.InputError as exc:
        return Response(str(exc), 400, headers=HEADERS)
    fields = {name: form.get(name, "") for name in
              ("day", "source", "medium", "campaign", "amount", "currency")}
    try:
        cost = costs.parse_cost(filters.site, {k: v for k, v in fields.items() if v})
        await run_in_threadpool(costs.record_cost, collector.store, filters.site, cost)
    except reports.InputError as exc:
        return await render(request, filters, {"cost_error": str(exc), "form": fields}, 400)
    except StoreError:
        return page(request, "unavailable.html", {}, 503)
    return RedirectResponse(f"{request.url_for('dashboard')}?{filters.query(recorded='1')}",
                            303)


def routes() -> list[BaseRoute]:
    return [
        Route("/dashboard", dashboard, name="dashboard"),
        Route("/dashboard/login", login, methods=["GET", "POST"], name=SIGN_IN),
        Route("/dashboard/logout", logout, methods=["POST"], name="dashboard-logout"),
        Route("/dashboard/costs", record_cost, methods=["POST"], name="dashboard-costs"),
    ]
