"""The dashboard's chart: geometry for an SVG of conversions (bars) and value (a line).

Only numbers are computed here; dashboard/chart.html draws them, so every label goes
through the template's autoescaping, and nothing needs a script or an inline style.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 64, 16, 34  # room for the axes' labels
MAX_LABELS = 8


@dataclass(frozen=True)
class Point:
    label: str        # the day or hour, as shown under the axis
    conversions: int
    value: Decimal    # in the chart's currency


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    point: Point


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    line: str                      # the value line's points, "x,y x,y …"
    dots: list[tuple[float, float, Point]]
    left_ticks: list[Tick]         # conversions
    right_ticks: list[Tick]        # value
    x_labels: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return not any(bar.point.conversions or bar.point.value for bar in self.bars)


def nice_ceiling(top: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ at or above top, so ticks are round numbers."""
    if top <= 0:
        return 1
    power = 10.0 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= top * (1 - 1e-9))


def ticks(top: float, whole: bool = False) -> list[Tick]:
    """Round steps from 0 to top; whole numbers only where the figure is a count."""
    mantissa = round(top / 10.0 ** math.floor(math.log10(top)))
    count = max(int(top), 1) if whole and top <= 5 else {1: 5, 2: 4, 5: 5, 10: 5}[mantissa]
    plot = HEIGHT - TOP - BOTTOM
    return [Tick(round(HEIGHT - BOTTOM - plot * i / count, 2), short(top * i / count))
            for i in range(count + 1)]


def short(number: float) -> str:
    if number >= 1_000_000:
        return f"{number / 1_000_000:g}M"
    if number >= 10_000:
        return f"{number / 1000:g}k"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def timeline(points: list[Point]) -> Chart:
    """Bars for conversions and a line for value, on two scales over the same time axis."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(points), 1)
    top_conversions = nice_ceiling(max((p.conversions for p in points), default=0))
    top_value = nice_ceiling(float(max((p.value for p in points), default=Decimal(0))))
    bars, dots = [], []
    for index, point in enumerate(points):
        height = plot_height * point.conversions / top_conversions
        x = LEFT + slot * index
        bars.append(Bar(round(x + slot * 0.15, 2), round(HEIGHT - BOTTOM - height, 2),
                        round(slot * 0.7, 2), round(height, 2), point))
        y = HEIGHT - BOTTOM - plot_height * float(point.value) / top_value
        dots.append((round(x + slot / 2, 2), round(y, 2), point))
    step = math.ceil(len(points) / MAX_LABELS) if points else 1
    labels = [Tick(round(LEFT + slot * (i + 0.5), 2), points[i].label)
              for i in range(0, len(points), step)]
    return Chart(bars=bars, line=" ".join(f"{x},{y}" for x, y, _ in dots), dots=dots,
                 left_ticks=ticks(top_conversions, whole=True), right_ticks=ticks(top_value),
                 x_labels=labels)
