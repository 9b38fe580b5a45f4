"""What reading a User-Agent costs a hit: once per new agent, then from memory.

    python -m bench.agents

Agents are the real browsers of fake-useragent's data and the examples of the
crawler-user-agents list. "First sight" is useragent.device + useragent.automated,
what Ingest pays for an agent it has not seen (or cannot remember: longer than
ingest.MAX_AGENT); "remembered" is Ingest.device once the agent is known, what every
later hit from that agent pays.
"""

from __future__ import annotations

import json
import statistics
import time
from importlib.resources import files
from typing import Callable

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from consentpixel import config, useragent
from consentpixel.buffer import Buffer
from consentpixel.ingest import Ingest

ROUNDS = 5


def corpora() -> dict[str, list[str]]:
    lines = files("fake_useragent").joinpath("data/browsers.jsonl").read_text().splitlines()
    browsers = sorted({json.loads(line)["useragent"] for line in lines})
    crawlers = [agent for entry in CRAWLER_USER_AGENTS_DATA for agent in entry["instances"]]
    return {"real browsers (fake-useragent)": browsers,
            "crawlers (crawler-user-agents examples)": crawlers}


def per_agent_us(read: Callable[[str], object], agents: list[str]) -> float:
    """Median over ROUNDS of the time per agent, in µs."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for agent in agents:
            read(agent)
        rounds.append((time.perf_counter_ns() - start) / len(agents) / 1000)
    return statistics.median(rounds)


def first_sight(agent: str) -> tuple[str, bool]:
    return useragent.device(agent), useragent.automated(agent)


def table() -> str:
    site = {"sites": {"demo": {"origins": ["http://127.0.0.1:*"]}}}
    lines = ["| User-Agents | agents | automated | µs per hit, first sight "
             "| µs per hit, remembered |", "|---|---:|---:|---:|---:|"]
    for label, agents in corpora().items():
        ingest = Ingest(config.parse(site), Buffer())
        automated = sum(ingest.device(agent)[1] for agent in agents)  # now all remembered
        lines.append(f"| {label} | {len(agents):,} | {automated:,} | "
                     f"{per_agent_us(first_sight, agents):.1f} | "
                     f"{per_agent_us(ingest.device, agents):.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
