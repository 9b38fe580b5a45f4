"""The demo: its site's config, and the shop the collector serves under /demo/ when it
runs without a config.

Three pages a real shop has (landing, product, thank-you), each with the one-line tag,
served under a strict Content-Security-Policy to show the tag needs nothing inline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import config as config_module
from .config import LOOPBACK, Config
from .templating import templates

BASE_URL = "http://127.0.0.1:8000"  # where the demo shop is when the port is not known
CSP = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def config(db: str | None = None, base_url: str = BASE_URL) -> Config:
    """The demo site: opt-in, analytics and ads, any loopback page, automation counted."""
    raw: dict[str, Any] = {
        "collector": {"db": db} if db else {},
        "sites": {"demo": {
            "origins": [f"{o.scheme}://{o.host}:*" for o in LOOPBACK],
            "mode": "opt-in",
            "count_automation": True,
            # The demo has one visitor, you: the crowd rule would hide every page.
            "crowd_clients": 1,
            "exempt_events": [],
            "events": {"newsletter": "ads"},
            "categories": {
                "analytics": {"cookies": ["_demo_stats*"]},
                "ads": {"cookies": ["_demo_ads*"]},
            },
            "links": {
                "spring-sale": {"url": f"{base_url}/demo/",
                                "source": "newsletter", "medium": "email",
                                "campaign": "spring-sale", "content": "hero"},
            },
        }},
    }
    return replace(config_module.parse(raw), demo=True)


def config_or_demo(path: str | None, db: str | None, base_url: str = BASE_URL) -> Config:
    """What a command runs on: the config file given (db overriding its store), else the
    demo site."""
    if not path:
        return config(db, base_url)
    loaded = config_module.load(path)
    return replace(loaded, db=db) if db else loaded


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    origin: str
    price: str


PRODUCTS = (
    Product("yirgacheffe", "Yirgacheffe", "Ethiopia · floral, bergamot", "14.90"),
    Product("huila", "Huila", "Colombia · caramel, red apple", "12.50"),
    Product("house-espresso", "House espresso", "Brazil & India · cocoa, hazelnut", "49.90"),
)
BY_SLUG = {product.slug: product for product in PRODUCTS}


def render(request: Request, name: str, status: int = 200, **context: object) -> Response:
    response: Response = templates.TemplateResponse(
        request, f"demo/{name}", {"products": PRODUCTS, **context}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    return response


async def landing(request: Request) -> Response:
    return render(request, "landing.html", subscribed="subscribed" in request.query_params)


async def product(request: Request) -> Response:
    item = BY_SLUG.get(request.path_params["slug"])
    if item is None:
        return render(request, "missing.html", status=404)
    # The order ID is made when the page is shown, so reloading the thank-you page
    # repeats the same order and the collector counts it once.
    return render(request, "product.html", product=item, order=f"D-{secrets.token_hex(4)}")


async def subscribe(request: Request) -> Response:
    """The newsletter form: posted, so the address is never in a URL (nor in the
    Referer of the next page's pixels); the demo reads no field and keeps nothing."""
    async for _ in request.stream():
        pass
    return RedirectResponse("/demo/?subscribed=1", 303)


async def thanks(request: Request) -> Response:
    item = BY_SLUG.get(request.query_params.get("product", ""))
    order = request.query_params.get("order", "")[:40]
    if item is None or not order:
        return render(request, "missing.html", status=404)
    return render(request, "thanks.html", product=item, order=order)


def routes() -> list[BaseRoute]:
    return [
        Route("/demo/", landing),
        Route("/demo/product/{slug}", product),
        Route("/demo/thanks", thanks),
        Route("/demo/subscribe", subscribe, methods=["POST"]),
    ]
