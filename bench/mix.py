"""The requests of a load: hits as the tag sends them, for a small shop's traffic.

Every request is a distinct URL (the tag adds a counter), paths repeat the way a site's
pages do, 15% carry an order number the client draws afresh for every request (NUMBER
in the list; the collector turns it into :id), some land from a campaign or a search
engine, and a few are purchases. Every one of them is valid, so every answered request
must be counted.
"""

from __future__ import annotations

import random
from urllib.parse import quote

PRODUCTS = [f"/products/{name}-{size}" for name in
            ("yirgacheffe", "huila", "sidamo", "kenya-aa", "santos", "tarrazu", "antigua",
             "java", "sumatra", "kona") for size in ("250g", "500g", "1kg")]
PAGES = ["/", "/about", "/cart", "/checkout", "/blog/brewing-guide", "/blog/grinders",
         *PRODUCTS]
REFERRERS = ["www.google.com", "duckduckgo.com", "l.facebook.com", "news.example"]
NUMBER = "NUMBER"  # replaced by a new 7-digit number in every request
CAMPAIGNS = [("newsletter", "email", f"week-{week}") for week in range(1, 9)] + \
            [("google", "cpc", "brand"), ("facebook", "paid-social", "spring-sale")]


def requests(prefix: str = "", count: int = 5000, seed: int = 6) -> list[str]:
    """`count` pixel URLs (path and query) whose paths all start with prefix."""
    rng = random.Random(seed)
    return [hit(rng, prefix, index) for index in range(count)]


def hit(rng: random.Random, prefix: str, index: int) -> str:
    if rng.random() < 0.15:
        path = f"/orders/{NUMBER}"  # an ID in the URL: each one new
    else:
        path = PAGES[min(int(rng.expovariate(0.15)), len(PAGES) - 1)]
    query = "s=demo"
    landing = rng.random()
    if landing < 0.2:
        source, medium, campaign = rng.choice(CAMPAIGNS)
        query += f"&utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
    elif landing < 0.5:
        query += f"&r={rng.choice(REFERRERS)}"
    if rng.random() < 0.05:
        query += f"&e=purchase&v={rng.randrange(500, 9000) / 100:.2f}&c=EUR"
    else:
        query += "&e=pageview"
    query += f"&a=analytics-ads&p={quote(prefix + path, safe='')}&z={index % 30 + 1}"
    return f"/p.gif?{query}"


def fresh(request: str, rng: random.Random) -> str:
    """The request as a client sends it, with a new number where the list says so."""
    return request.replace(NUMBER, str(rng.randrange(10**6, 10**7)), 1)
