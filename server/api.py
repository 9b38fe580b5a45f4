"""The JSON API under /api/v1/: reports, campaigns, consent rates, costs and hits not
counted, for scripts.

Every endpoint needs the admin secret: `Authorization: Bearer SECRET`, or the
dashboard's session cookie, in which case writes also carry the session's CSRF token
in `X-CSRF-Token`. Errors are JSON, `{"error": "…"}`, with a 4xx status; every
figure comes from reports.py, the query layer the CLI and the dashboard use too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Awaitable, Callable

from starlette.authentication import requires
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from . import auth, costs, reports
from .collector import collector_of
from .config import Site
from .store import StoreError

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FORMATS = ("json", "csv")
MAX_DAYS = 3660
MAX_BODY = 1 << 20
MAX_COSTS = 1000
MAX_DEPTH = 3  # a list of cost objects whose values are strings or numbers
MAX_DIGITS = 30  # no amount needs more; Python refuses integers past 4,300 digits anyway

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=plain).encode()


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def answer(content: Any, status: int = 200, headers: dict[str, str] | None = None
           ) -> Response:
    return JSON(content, status, headers={**HEADERS, **(headers or {})})


# -- the guard every endpoint passes ------------------------------------------------------


def route(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> Route:
    """A route that checks the secret first, and answers every failure with JSON."""
    allowed = [*methods, "HEAD"] if "GET" in methods else list(methods)

    @requires(auth.ADMIN, status_code=401)
    async def admitted(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            check_csrf(request)
        if request.method not in allowed:
            raise ApiError(405, f"{request.method} is not allowed here ({', '.join(allowed)})")
        return await handler(request)

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await admitted(request)
            return response
        except HTTPException as exc:
            if exc.status_code != 401:
                raise
            return answer({"error": "send the admin secret: Authorization: Bearer SECRET"}, 401,
                          {"WWW-Authenticate": auth.CHALLENGE["WWW-Authenticate"]})
        except ApiError as exc:
            headers = {"Allow": ", ".join(allowed)} if exc.status == 405 else {}
            return answer({"error": exc.message}, exc.status, headers)
        except reports.InputError as exc:
            return answer({"error": str(exc)}, 400)
        except StoreError:
            return answer({"error": "the store is unreachable; try again"}, 503)

    return Route(path, endpoint, methods=METHODS)


def check_csrf(request: Request) -> None:
    """A write with the session is a browser's: it must prove it comes from our own page."""
    if auth.bearer(request):
        return
    secret = collector_of(request).admin_secret
    if not auth.valid_csrf(request, secret, request.headers.get("x-csrf-token", "")):
        raise ApiError(403, "a write with the session needs its X-CSRF-Token")


# -- parameters ---------------------------------------------------------------------------


def site_of(request: Request) -> Site:
    name = request.path_params["site"]
    site = collector_of(request).config.sites.get(name)
    if site is None:
        raise ApiError(404, f"no site {name!r}")
    return site


def check_params(request: Request, *known: str) -> None:
    for name in request.query_params:
        if name not in known:
            raise ApiError(400, f"{name}: unknown parameter (known: {', '.join(known)})")


def period_of(request: Request) -> reports.Period:
    params = request.query_params
    days = params.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
        raise ApiError(400, f"days: {days!r} is not a whole number from 1 to {MAX_DAYS}")
    return reports.period_of(params.get("from"), params.get("to"), int(days))


def by_of(request: Request, default: tuple[str, ...]) -> tuple[str, ...]:
    given = [part.strip() for value in request.query_params.getlist("by")
             for part in value.split(",") if part.strip()]
    return reports.checked_by(given or default)


def format_of(request: Request) -> str:
    form = request.query_params.get("format", "json")
    if form not in FORMATS:
        raise ApiError(400, f"format: {form!r} is not one of {', '.join(FORMATS)}")
    return form


def csv_response(text: str, site: Site, name: str, period: reports.Period) -> Response:
    filename = f"{site.name}-{name}-{period.first}-{period.final}.csv"
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        **HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})


# -- endpoints ----------------------------------------------------------------------------


async def sites(request: Request) -> Response:
    check_params(request)
    config = collector_of(request).config
    return answer({"sites": [describe(site) for site in config.sites.values()]})


def describe(site: Site) -> dict[str, Any]:
    return {"name": site.name, "mode": site.mode, "currency": site.currency,
            "min_count": site.min_count, "lookback_days": site.lookback_days,
            "categories": list(site.categories), "events": site.events,
            "links": [{"id": link.id, "url": link.url, "source": link.source,
                       "medium": link.medium, "campaign": link.campaign,
                       "content": link.content} for link in site.links.values()]}


async def report(request: Request) -> Response:
    return await funnel(request, "report", ("day",))


async def campaigns(request: Request) -> Response:
    return await funnel(request, "campaigns", ("source", "medium", "campaign"), fixed=True)


async def funnel(request: Request, name: str, default: tuple[str, ...],
                 fixed: bool = False) -> Response:
    check_params(request, "from", "to", "days", "format", *(() if fixed else ("by",)))
    site, period, form = site_of(request), period_of(request), format_of(request)
    by = default if fixed else by_of(request, default)
    store = collector_of(request).store
    result = await run_in_threadpool(reports.funnel, store, site, period, by)
    if form == "csv":
        rows = [row.flat(result.currencies()) for row in result.rows]
        return csv_response(reports.csv_text(rows, result.columns()), site, name, period)
    return answer(result.as_dict())


async def events(request: Request) -> Response:
    check_params(request, "from", "to", "days", "by", "format")
    site, period, form = site_of(request), period_of(request), format_of(request)
    by = by_of(request, ("event",))
    store = collector_of(request).store
    rows, merged = await run_in_threadpool(reports.event_counts, store, site, period, by)
    if form == "csv":
        columns = [*(group for group in by if group != "event"), "event", "count", "value",
                   "currency"]
        return csv_response(reports.csv_text(rows, columns), site, "events", period)
    return answer({"site": site.name, "from": period.first.isoformat(),
                   "to": period.final.isoformat(), "by": list(by), "rows": rows,
                   **reports.merge_fields(merged, site.min_count)})


async def consents(request: Request) -> Response:
    check_params(request, "from", "to", "days", "by", "format")
    site, period, form = site_of(request), period_of(request), format_of(request)
    by = request.query_params.get("by", "category")
    if by not in ("category", "day"):
        raise ApiError(400, f"by: {by!r} is not one of category, day")
    store = collector_of(request).store
    rows = [row.as_dict() for row in await run_in_threadpool(
        reports.consent_rates, store, site, period, by == "day")]
    if form == "csv":
        columns = [*(["day"] if by == "day" else []), "category", "granted", "refused", "rate"]
        return csv_response(reports.csv_text(rows, columns), site, "consents", period)
    return answer({"site": site.name, "from": period.first.isoformat(),
                   "to": period.final.isoformat(), "rows": rows})


async def drops(request: Request) -> Response:
    """Why hits were not counted, per site, reason and detail, with the fix."""
    check_params(request, "site", "from", "to", "days", "format")
    name = request.query_params.get("site") or None
    config = collector_of(request).config
    if name is not None and name not in config.sites:
        raise ApiError(404, f"no site {name!r}")
    period, form = period_of(request), format_of(request)
    rows = [row.as_dict() for row in await run_in_threadpool(
        reports.not_counted, collector_of(request).store, config, name, period)]
    if form == "csv":
        filename = f"{name or 'all'}-drops-{period.first}-{period.final}.csv"
        text = reports.csv_text(rows, ["site", "reason", "detail", "count", "fix"])
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            **HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})
    return answer({"site": name, "from": period.first.isoformat(),
                   "to": period.final.isoformat(), "rows": rows})


async def site_costs(request: Request) -> Response:
    if request.method in ("POST", "PUT"):
        return await record_costs(request)
    check_params(request, "from", "to", "days", "format")
    site, period, form = site_of(request), period_of(request), format_of(request)
    store = collector_of(request).store
    rows = [cost.as_dict() for cost in await run_in_threadpool(costs.recorded, store, site,
                                                                period)]
    if form == "csv":
        columns = ["day", "source", "medium", "campaign", "currency", "amount"]
        return csv_response(reports.csv_text(rows, columns), site, "costs", period)
    return answer({"site": site.name, "from": period.first.isoformat(),
                   "to": period.final.isoformat(), "rows": rows})


async def record_costs(request: Request) -> Response:
    """Set spend per campaign and day: one object or a list; all are checked first."""
    check_params(request)
    site = site_of(request)
    items = await json_body(request)
    if not isinstance(items, list):
        items = [items]
    if not items or len(items) > MAX_COSTS:
        raise ApiError(400, f"send one cost or a list of 1 to {MAX_COSTS}")
    parsed = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, f"[{index}]: a cost is an object like "
                                '{"day": "2026-03-01", "link": "spring-sale", "amount": "120.50"}')
        try:
            parsed.append(costs.parse_cost(site, item))
        except reports.InputError as exc:
            raise ApiError(400, f"[{index}].{exc}" if len(items) > 1 else str(exc)) from None
    store = collector_of(request).store
    await run_in_threadpool(costs.record_costs, store, site, parsed)  # all or none
    return answer({"recorded": [cost.as_dict() for cost in parsed]})


async def json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "send the body as Content-Type: application/json")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:  # stop reading: nothing this large is a list of costs
            raise ApiError(413, f"the body is over {MAX_BODY} bytes")
    try:
        value = json.loads(body, parse_int=whole_number, parse_constant=not_json)
    except RecursionError:
        raise ApiError(400, "the body nests too deeply: send a cost or a list of costs"
                       ) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    check_body(value)
    return value


def whole_number(text: str) -> int:
    # Python reads integers of any length, slowly, up to a limit that raises ValueError.
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise ApiError(400, f"the body holds a number of {digits} digits; an amount has "
                            f"at most {MAX_DIGITS}")
    return int(text)


def not_json(name: str) -> Any:
    raise ApiError(400, f"the body holds {name}, which JSON does not allow as a number")


def check_body(value: Any) -> None:
    """A cost is an object of strings and numbers, in a list or not: anything nested
    deeper, and any text that is not Unicode (a lone surrogate such as \\ud800), is
    refused here rather than by the store."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, "the body nests too deeply: send a cost or a list of costs")
        if isinstance(item, dict):
            pending += [(key, depth + 1) for key in item]
            pending += [(entry, depth + 1) for entry in item.values()]
        elif isinstance(item, list):
            pending += [(entry, depth + 1) for entry in item]
        elif isinstance(item, str) and not item.isascii() and costs.SURROGATE.search(item):
            raise ApiError(400, f"the body holds a lone surrogate in {item!r}: "
                                "JSON text must be valid Unicode")


async def unknown(request: Request) -> Response:
    raise ApiError(404, f"no endpoint {request.url.path}; see docs/api.md")


def routes() -> list[BaseRoute]:
    return [Mount("/api/v1", routes=[
        route("/sites", sites),
        route("/drops", drops),
        route("/sites/{site}/report", report),
        route("/sites/{site}/campaigns", campaigns),
        route("/sites/{site}/events", events),
        route("/sites/{site}/consents", consents),
        route("/sites/{site}/costs", site_costs, ("GET", "POST", "PUT")),
        route("/{rest:path}", unknown, tuple(METHODS)),
    ])]
