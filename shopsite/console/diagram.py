"""The geometry of a trace's sequence diagram: one lane per service, one step per message.

Only numbers and labels are computed here; the template draws them as
inline SVG, escaping every label, so nothing from a message reaches the
page unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shopsite.bus.trace import Trace, TracedMessage

AXIS = 92  # room for the time labels on the left
LANE = 150
HEADER = 40
TYPE_LINE = 16  # the message type, above its first arrow
HOP = 26  # one arrow per consumer, its delay written under it
STEP_GAP = 16
BREAK = 30  # a "… later" marker between steps far apart in time
LONG_PAUSE = timedelta(seconds=30)

COLORS = {
    "accounts": "#2563eb",
    "catalog": "#16a34a",
    "cart": "#d97706",
    "orders": "#9333ea",
    "payments": "#dc2626",
    "notifications": "#0891b2",
}
OUTSIDE = "#6b7280"


@dataclass(frozen=True)
class Lane:
    service: str
    x: int
    color: str


@dataclass(frozen=True)
class Arrow:
    path: str
    label: str
    label_x: int
    label_y: int
    anchor: str
    title: str
    marker: str


@dataclass(frozen=True)
class Step:
    message: TracedMessage
    color: str
    marker: str
    bar_x: int
    bar_y: int
    bar_height: int
    label: str
    label_x: int
    label_y: int
    label_anchor: str
    time_label: str
    time_y: int
    arrows: tuple[Arrow, ...]

    @property
    def table_rows(self) -> tuple:
        """One table row per hop; a message nobody handled still gets its row."""
        return self.message.hops or (None,)


@dataclass(frozen=True)
class Break:
    y: int
    label: str


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    lane_top: int
    lane_bottom: int
    lanes: tuple[Lane, ...]
    steps: tuple[Step, ...]
    breaks: tuple[Break, ...]


def duration_label(ms: int | None) -> str:
    if ms is None:
        return "?"
    if abs(ms) < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if abs(seconds) < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def sequence_diagram(trace: Trace, services: list[str]) -> Diagram:
    lanes = tuple(Lane(s, AXIS + LANE // 2 + i * LANE, COLORS.get(s, OUTSIDE)) for i, s in enumerate(services))
    x_of = {lane.service: lane.x for lane in lanes}
    y = HEADER + 10
    steps, breaks = [], []
    previous = None
    for message in trace.messages:
        if previous is not None and message.started_at - previous.started_at > LONG_PAUSE:
            pause = round((message.started_at - previous.started_at).total_seconds() * 1000)
            breaks.append(Break(y + BREAK // 2, f"{duration_label(pause)} later"))
            y += BREAK
        step = _step(message, trace, x_of, y)
        steps.append(step)
        y = step.bar_y + step.bar_height + 8 + STEP_GAP  # the last delay label hangs under the bar
        previous = message
    bottom = y + 4
    return Diagram(
        width=AXIS + LANE * len(lanes) + 10,
        height=bottom + HEADER,
        lane_top=HEADER,
        lane_bottom=bottom,
        lanes=lanes,
        steps=tuple(steps),
        breaks=tuple(breaks),
    )


def _step(message: TracedMessage, trace: Trace, x_of: dict[str, int], top: int) -> Step:
    origin = x_of.get(message.producer, AXIS - 6)
    color = COLORS.get(message.producer, OUTSIDE)
    marker = f"head-{message.producer}" if message.producer in COLORS else "head-outside"
    first = top + TYPE_LINE
    arrows = tuple(
        _arrow(origin, x_of.get(hop.service, origin), first + i * HOP, hop, marker)
        for i, hop in enumerate(message.hops)
    )
    if not arrows:
        arrows = (Arrow(path=f"M{origin + 5},{first} h34", label="not handled (yet)", label_x=origin + 5,
                        label_y=first + 14, anchor="start", title="No consumer has recorded this message.",
                        marker=""),)
    rightward = not message.hops or x_of.get(message.hops[0].service, origin) >= origin
    return Step(
        message=message,
        color=color,
        marker=marker,
        bar_x=origin - 4,
        bar_y=first - 6,
        bar_height=max(len(message.hops), 1) * HOP - HOP + 12,
        label=message.type,
        label_x=origin + 8 if rightward else origin - 8,
        label_y=first - 5,
        label_anchor="start" if rightward else "end",
        time_label=f"+{duration_label(trace.offset_ms(message.started_at))}",
        time_y=first + 4,
        arrows=arrows,
    )


def _arrow(x1: int, x2: int, y: int, hop, marker: str) -> Arrow:
    title = f"{hop.service}: {hop.handler} after {duration_label(hop.delay_ms)}"
    label = duration_label(hop.delay_ms)
    if x1 == x2:  # a service handling its own message: a small loop back into its lane
        return Arrow(path=f"M{x1 + 5},{y - 5} h26 v10 h-20", label=label, label_x=x1 + 36, label_y=y + 4,
                     anchor="start", title=title, marker=marker)
    direction = 1 if x2 > x1 else -1
    start, end = x1 + 5 * direction, x2 - 7 * direction
    # Under the line, by its head: the type's label runs above the first line from the producer.
    return Arrow(path=f"M{start},{y} H{end}", label=label, label_x=end - 4 * direction, label_y=y + 13,
                 anchor="end" if direction > 0 else "start", title=title, marker=marker)
