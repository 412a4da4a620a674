"""Server-rendered SVG charts (no script, no CDN): jobs finished per minute, queue backlog over time."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

COLOURS = {"done": "#2e7d32", "dead": "#c62828"}
#: Line colours of the backlog chart, one per queue in turn.
PALETTE = ("#1c4fb8", "#b26a00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#5d4037", "#455a64")
WIDTH, HEIGHT, LEFT, BOTTOM = 720, 180, 40, 24


def _frame(label: str, peak: str, element_id: str = "") -> list[str]:
    """The opening of a chart: the SVG element, its baseline and the labels of its y axis."""
    plot = HEIGHT - BOTTOM
    id_attribute = f' id="{element_id}"' if element_id else ""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" class="chart"{id_attribute}>',
        f'<line x1="{LEFT}" y1="{plot}" x2="{WIDTH}" y2="{plot}" stroke="#999"/>',
        f'<text x="{LEFT - 4}" y="10" text-anchor="end" font-size="10">{escape(peak)}</text>',
        f'<text x="{LEFT - 4}" y="{plot}" text-anchor="end" font-size="10">0</text>',
    ]


def finished_chart(since: datetime, minutes: int, series: dict[str, list[int]]) -> str:
    """Stacked bars, one per minute, done below dead; a title per bar gives the exact counts."""
    peak = max([sum(values) for values in zip(*series.values(), strict=True)] + [1])
    bar = (WIDTH - LEFT) / minutes
    plot = HEIGHT - BOTTOM
    parts = _frame(f"Jobs finished per minute over the last {minutes} minutes", str(peak))
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


def backlog_chart(since: datetime, minutes: int, lines: dict[str, list[tuple[datetime, int]]]) -> str:
    """One line per queue of its ready messages over the last `minutes`; a legend names each queue."""
    peak = max([count for points in lines.values() for _, count in points] + [1])
    plot, span = HEIGHT - BOTTOM, WIDTH - LEFT
    parts = _frame(f"Ready messages per queue over the last {minutes} minutes", str(peak), "backlog-chart")
    for minute in range(0, minutes + 1, 10):
        at = since + timedelta(minutes=minute)
        x = LEFT + span * minute / minutes
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="10">{at:%H:%M}</text>')
    for index, (queue, points) in enumerate(sorted(lines.items())):
        colour = PALETTE[index % len(PALETTE)]
        xy = " ".join(
            f"{LEFT + span * (at - since).total_seconds() / (minutes * 60):.1f},"
            f"{plot - count / peak * (plot - 12):.1f}"
            for at, count in points
        )
        latest = points[-1][1] if points else 0
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{xy}">'
            f"<title>{escape(queue)}: {latest} ready now</title></polyline>"
        )
        parts.append(
            f'<text x="{WIDTH - 4}" y="{14 + 12 * index}" text-anchor="end" font-size="10" fill="{colour}">'
            f"{escape(queue)} {latest}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def throughput_chart(report) -> str:
    """An actor's finished jobs per minute, one bar per 1/60 of its window (`domain.actor_stats`)."""
    minutes = report.chart_step.total_seconds() / 60
    rates = [n / minutes for n in report.finished_per_bar]
    peak = max([*rates, 0.001])
    bar, plot = (WIDTH - LEFT) / len(rates), HEIGHT - BOTTOM
    parts = _frame(f"Jobs of {report.actor} finished per minute", f"{peak:.3g}/min", "throughput-chart")
    for index, rate in enumerate(rates):
        at = report.chart_since + index * report.chart_step
        x = LEFT + index * bar
        if rate:
            height = rate / peak * (plot - 12)
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{plot - height:.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{height:.1f}" fill="#1c4fb8"><title>{at:%m-%d %H:%M} UTC: {rate:.3g} per minute'
                "</title></rect>"
            )
        if index % 10 == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="10">{at:%m-%d %H:%M}</text>')
    parts.append("</svg>")
    return "".join(parts)
