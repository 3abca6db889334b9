"""How the commands' help reads: plain click text for clinicians, each command ending with
its examples and its exit codes (a contract), options named by what they take (``QUANTITY``),
never by a Python type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typer import Exit
from typer.core import TyperCommand

from mgassist._core.fields import FieldSpec

from .exit_codes import CommandFailed, ExitCode

__all__ = ["BAD_INPUT", "BUG", "CTRL_C", "HelpCommand", "METAVARS", "epilog", "metavar"]

RAW = "\b"  # click: the paragraph after this line is printed as written, not re-wrapped
BUG = (ExitCode.INTERNAL, "internal error (a bug; MGASSIST_DEBUG=1 shows the details)")
CTRL_C = (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)")
BAD_INPUT = [(ExitCode.INPUT, "invalid input or arguments: each error names the flag, the value"),
              (None, "and what is accepted")]


ExitLine = tuple[ExitCode | None, str]  # an exit code and its meaning (None: the line goes on)


def epilog(examples: Sequence[str], exits: Sequence[ExitLine]) -> str:
    """The end of a command's help: its examples, then its exit codes (a contract)."""
    return "\n".join([RAW, "Examples:", *(f"  {line}" for line in examples), "", RAW,
                      "Exit codes:", *(f"  {'' if code is None else int(code):<5}{text}"
                                       for code, text in exits)])


class HelpCommand(TyperCommand):
    """A command whose help lists an argument by its metavar alone (``PATH``), without
    typer's Python type beside it (``PATH <list[Path]>``): the help is for clinicians; and
    whose CommandFailed (the reason already printed) ends it with its exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; one that has said why it cannot go on ends with its exit code."""
        try:
            return super().invoke(ctx)
        except CommandFailed as failed:
            raise Exit(failed.code) from None

    def format_options(self, ctx: Any, formatter: Any) -> None:
        rows: dict[str, list[tuple[str, str]]] = {"argument": [], "option": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or param.param_type_name not in rows:
                continue
            name, text = record
            if param.param_type_name == "argument":
                typed = getattr(param, "display_type_rich", None)
                suffix = typed(ctx=ctx) if callable(typed) else None
                name = name.removesuffix(f" {suffix}") if suffix else name
            rows[param.param_type_name].append((name, text))
        for title, kind in (("Arguments", "argument"), ("Options", "option")):
            if rows[kind]:
                with formatter.section(title):
                    formatter.write_dl(rows[kind])


METAVARS = {"quantity": "QUANTITY", "number": "NUMBER", "list": "NAME", "choice": "NAME"}


def metavar(spec: FieldSpec) -> str:
    """``QUANTITY``, ``NUMBER``, ``NAME``, or the choices as click shows them."""
    return f"[{'|'.join(spec.choices)}]" if spec.choices else METAVARS[spec.kind]
