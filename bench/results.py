"""Measured figures, their targets, and the table they are printed in."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Result:
    """One measured figure. ``target`` is an upper bound in the same unit (None: for
    information only)."""

    scenario: str
    backend: str
    measured: float
    unit: str
    target: float | None = None
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.target is None else self.measured / self.target

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        return "pass" if self.measured <= self.target else "FAIL"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.3f} ms" if value < 1 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:g} {unit}"


def table(results: list[Result]) -> str:
    header = ("scenario", "backend", "measured", "target", "ratio", "result")
    rows = [header] + [
        (
            r.scenario,
            r.backend,
            fmt(r.measured, r.unit),
            "-" if r.target is None else "<= " + fmt(r.target, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.verdict,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    notes = [f"- {r.scenario} ({r.backend}): {r.detail}" for r in results if r.detail]
    return "\n".join([*lines, "", *notes])
