"""Exit codes: a contract, printed at the end of every command's --help.

    OK           0    an assessment was produced, whatever its status; the rules are valid
    PROBLEMS     1    rules validate/test found problems; batch: some records had errors;
                      interview: left with Ctrl-D (end of input)
    INPUT        2    invalid input or unusable arguments (the message names the flag or field,
                      the value and what is accepted)
    INTERNAL     3    a bug: one line on stderr, never a traceback
    INTERRUPTED  130  Ctrl-C
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CommandFailed", "ExitCode"]


class ExitCode(IntEnum):
    """How mgassist ends (see the module docstring)."""

    OK = 0
    PROBLEMS = 1
    INPUT = 2
    INTERNAL = 3
    INTERRUPTED = 130


class CommandFailed(Exception):
    """A command cannot go on and has already said why; ``code`` is how mgassist ends. Raised
    in the shell only (loading the rules a command was given); the command wrapper
    (``cli_help.HelpCommand``) and the entry point turn it into the exit code."""

    def __init__(self, code: ExitCode) -> None:
        super().__init__(f"exit {int(code)}")
        self.code = code
