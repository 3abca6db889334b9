"""The text report: the only modules that import rich (``render*.py``), and only when a report
is printed.

The report reads top to bottom the way a clinician decides. By default it is brief, to be read
at the bedside in ten seconds (``render_brief``): the decision box with the first actions, the
regimen, the warnings and critical findings, one monitoring line and the references they cite.
``full=True`` adds everything (``render_full``): every finding with its details, the regimen as
a table, the monitoring basis, the inputs as used and the references in full. Both render an
Assessment and nothing else, so the text and the JSON can never disagree; the decision is in
colour AND words, so it survives NO_COLOR and a black-and-white printout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from mgassist._core.assessment import Assessment

__all__ = ["RecordsProgress", "render_report"]


def render_report(
    assessment: Assessment, *, file: IO[str] | None = None,
    width: int | None = None, color: bool | None = None, full: bool = False,
    more: str | None = None,
) -> None:
    """Print the report for ``assessment``: brief, or everything with ``full``.

    ``color=None`` decides from the terminal; ``more`` is the brief report's last line, saying
    how to see the full one (the CLI's words; None leaves it out)."""
    from rich.console import Console

    console = Console(file=file, width=width, no_color=None if color is None else not color,
                      force_terminal=True if color else None, highlight=False,
                      emoji=False, soft_wrap=False)
    if full:
        from .render_full import full_blocks

        blocks: Iterable[Any] = full_blocks(assessment, console.width)
    else:
        from .render_brief import brief_blocks

        blocks = brief_blocks(assessment, console.width, more)
    for block in blocks:
        if block is None:
            continue
        if isinstance(block, list):  # lines that must never be wrapped again (URLs)
            for line in block:
                console.print(line, soft_wrap=True)
        else:
            console.print(block)
        if full:  # the brief report places its own blank lines
            console.print()



class RecordsProgress:
    """A progress bar on stderr that counts records. Their total is unknown until the end, so
    the bar (and the time left) follows the bytes read; the number shown is records done."""

    def __init__(self, total_bytes: int, *, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress("assessing", BarColumn(),
                             TextColumn("{task.fields[records]:,} records"),
                             TimeRemainingColumn(),
                             console=console or Console(stderr=True), transient=True)
        self._task = self._bar.add_task("batch", total=total_bytes, records=0)
        self._bar.start()

    def update(self, records: int, bytes_read: int) -> None:
        """Show ``records`` done, with the bar at ``bytes_read`` of the input."""
        self._bar.update(self._task, completed=bytes_read, records=records)

    def stop(self) -> None:
        """Take the bar off the terminal."""
        self._bar.stop()
