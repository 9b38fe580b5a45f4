"""Requests in sequence: how deep in Chromium's initiator chain a request sits.

Each round trip a page must wait for before the next request can start is a step; on a
slow link steps, not bytes, decide when a banner paints. Chromium's DevTools protocol
says who started each request (`Network.requestWillBeSent`'s initiator: a URL, or a
stack of script frames); the page itself is step 0, what it names is 1, what those
start is 2, and so on.
"""

from __future__ import annotations

from typing import Any


def chain_depth(event: dict[str, Any], depths: dict[str, int]) -> int:
    """The step of the request a `Network.requestWillBeSent` event announces, recorded in
    depths (URL -> step) so that the requests it starts are one step further."""
    url = event["request"]["url"]
    initiator = event.get("initiator", {})
    urls = [initiator.get("url", "")]
    stack = initiator.get("stack")
    while stack:
        urls += [frame["url"] for frame in stack.get("callFrames", [])]
        stack = stack.get("parent")
    depth = 0 if event.get("type") == "Document" else 1 + max(
        (depths.get(u, 0) for u in urls if u), default=0)
    return depths.setdefault(url, depth)
