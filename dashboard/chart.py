"""A server-rendered SVG chart of jobs finished per minute, by status (no script, no CDN)."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

COLOURS = {"done": "#2e7d32", "dead": "#c62828"}
WIDTH, HEIGHT, LEFT, BOTTOM = 720, 180, 40, 24


def finished_chart(since: datetime, minutes: int, series: dict[str, list[int]]) -> str:
    """Stacked bars, one per minute, done below dead; a title per bar gives the exact counts."""
    peak = max([sum(values) for values in zip(*series.values(), strict=True)] + [1])
    bar = (WIDTH - LEFT) / minutes
    plot = HEIGHT - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Jobs finished per minute over the last {minutes} minutes" class="chart">',
        f'<line x1="{LEFT}" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="10" text-anchor="end" font-size="10">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{plot}" text-anchor="end" font-size="10">0</text>',
    ]
    for minute in range(minutes):
        x, base = LEFT + minute * bar, plot
        at = since + timedelta(minutes=minute)
        counts = {status: values[minute] for status, values in series.items()}
        title = f"{at:%H:%M} UTC: " + ", ".join(f"{n} {status}" for status, n in counts.items())
        for status, count in counts.items():
            if not count:
                continue
            height = count / peak * (plot - 12)
            base -= height
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{base:.1f}" width="{max(bar - 2, 1):.1f}" height="{height:.1f}" '
                f'fill="{COLOURS.get(status, "#555")}"><title>{escape(title)}</title></rect>'
            )
        if minute % 10 == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="10">{at:%H:%M}</text>')
    parts.append("</svg>")
    return "".join(parts)
