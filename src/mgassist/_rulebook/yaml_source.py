"""Read one YAML file safely into plain data plus the line of every value.

ruamel.yaml only *composes* the document here (builds nodes with positions); nothing is ever
constructed from a tag, so ``!!python/object`` and friends cannot run code. Our walker then turns
the nodes into dicts, lists and scalars and records, for every path into the data, the line it
came from, so that a later validation error can say ``decision.yaml:42``.

It refuses what a rule file never needs and an attacker might use: aliases (billion-laughs bombs),
non-standard tags, duplicate keys, non-string keys, multiple documents, bytes that are not UTF-8
text, nesting deeper than MAX_DEPTH, and more than MAX_BYTES or MAX_NODES. These three limits are
checked as the file is read and scanned, never after: the pure-Python parser needs about 0.1 ms a
node and, for ``[[[[...``, time quadratic in the depth. MAX_BYTES and MAX_NODES hold for a whole
rule set (one Budget for every read_yaml of a set), so more files do not mean more work.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgassist._core.errors import RulesError, RulesErrors

from .source import MAX_BYTES

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "Budget", "Located", "Path_", "read_yaml"]

Path_ = tuple[str | int, ...]
# Far above the bundled rule set (103 kB, 4,651 nodes, 12 levels; the medication vocabulary
# grows with every brand name), yet reading the largest rule set they allow takes a couple
# of seconds (documented in docs/rule-authoring.md). MAX_BYTES is in ``source``, which reads
# the files for their digest without this module.
MAX_NODES = 20_000  # YAML nodes (mappings, lists, keys and values) of a rule set
MAX_DEPTH = 40  # nesting of mappings and lists

_STANDARD = "tag:yaml.org,2002:"


@dataclass
class Budget:
    """What one rule set may still hold as its files are read: bytes and YAML nodes. A file
    that fails still spends what was parsed of it, so the work is bounded whatever the files."""

    bytes: int = MAX_BYTES
    nodes: int = MAX_NODES
    passed: bool = False  # a limit was passed: reading more files would only repeat that


class _Refused(Exception):
    """A refusal while the file is scanned or composed, at a 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Located:
    """A YAML document as plain data, with the 1-based line of each path in it."""

    path: Path
    data: Any
    lines: Mapping[Path_, int] = field(default_factory=dict)

    def line_of(self, where: Path_) -> int | None:
        """The line of ``where`` or of its nearest ancestor that has one."""
        probe = tuple(where)
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def error(self, where: Path_, message: str) -> RulesError:
        """A RulesError for this file at the line of ``where``."""
        return RulesError(self.path, self.line_of(where), message)


def read_yaml(path: Path, *, display: Path | str | None = None,
              budget: Budget | None = None) -> Located:
    """Compose ``path`` safely and return its data with line numbers, or raise RulesErrors.

    ``budget``: what is left of the limits of the rule set being read (default: a whole one)."""
    shown = Path(display) if display is not None else path
    budget = Budget() if budget is None else budget
    if path.exists() and not path.is_file():  # a pipe would block, a device never end
        raise RulesErrors([RulesError(shown, None, "not a regular file; a rule file is a "
                                                   "YAML text file")])
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            raw = stream.read(budget.bytes + 1)  # never more: a huge file is not read whole
    except OSError as exc:
        raise RulesErrors([RulesError(shown, None, f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > budget.bytes:
        budget.passed = True
        line = raw[: budget.bytes].count(b"\n") + 1
        raise RulesErrors([RulesError(
            shown, line, f"too large: a rule set may hold at most {MAX_BYTES:,} bytes in all its "
                         f"files, passed on this line (this file is {max(size, len(raw)):,} "
                         "bytes)")])
    budget.bytes -= len(raw)
    text = _decode(raw, shown)
    node = _compose(text, shown, budget)
    walker = _Walker(shown)
    data = walker.build(node, (), 0) if node is not None else None
    if walker.errors:
        raise RulesErrors(walker.errors)
    return Located(shown, data, walker.lines)


def _decode(raw: bytes, shown: Path) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RulesErrors([RulesError(shown, 1, "not valid UTF-8: the file is UTF-16 (it "
                                                "starts with a UTF-16 byte order mark); save "
                                                "it as UTF-8")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RulesErrors(
            [RulesError(shown, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")]
        ) from None
    from ruamel.yaml.reader import Reader

    bad = Reader.NON_PRINTABLE.search(text)
    if bad is not None:  # NUL, escape sequences...: the YAML reader would refuse them unlocated
        line = text.count("\n", 0, bad.start()) + 1
        raise RulesErrors([RulesError(shown, line, f"character U+{ord(bad.group()):04X} is not "
                                                   "allowed in a rule file (control characters "
                                                   "are not text)")])
    return text


def _compose(text: str, shown: Path, budget: Budget) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import AliasEvent
    from ruamel.yaml.scanner import Scanner

    class Guarded(Scanner):
        # The depth of a collection about to open: flow brackets plus block indentation levels
        # (equal to its depth in the data, or less under an indentless list).
        def fetch_flow_collection_start(self, *args: Any, **kwargs: Any) -> None:
            self.check_depth()
            super().fetch_flow_collection_start(*args, **kwargs)

        def add_indent(self, column: int) -> bool:
            self.check_depth()  # at a key of a deeper mapping, or of the same one: harmless
            return bool(super().add_indent(column))

        def check_depth(self) -> None:
            if self.flow_level + len(self.indents) > MAX_DEPTH:
                raise _Refused(self.reader.line + 1, f"nested deeper than {MAX_DEPTH} levels")

    class Counted(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.parser.check_event(AliasEvent):
                # refused where it is used, before the composer shares the anchored node
                line = self.parser.peek_event().start_mark.line + 1
                raise _Refused(line, "YAML aliases (*name) are not allowed in rule files; "
                                     "write the value out")
            budget.nodes -= 1
            if budget.nodes < 0:
                budget.passed = True
                line = self.parser.peek_event().start_mark.line + 1
                raise _Refused(line, f"too large: a rule set may hold at most {MAX_NODES:,} "
                                     "YAML nodes (keys, values, lists and mappings) in all its "
                                     "files, passed on this line")
            return super().compose_node(parent, index)

    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = Guarded
    yaml.Composer = Counted
    try:
        nodes = list(yaml.compose_all(text))
    except _Refused as exc:
        raise RulesErrors([RulesError(shown, exc.line, exc.message)]) from None
    except MarkedYAMLError as exc:
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line + 1, max(last, 1)) if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context_mark is not None and exc.context_mark is not mark:
            # e.g. an unclosed bracket: say where it was opened, not only where it was noticed
            problem += f" ({exc.context or 'started'} on line {exc.context_mark.line + 1})"
        raise RulesErrors([RulesError(shown, line, f"invalid YAML: {problem}")]) from None
    except (YAMLError, RecursionError, ValueError) as exc:
        raise RulesErrors([RulesError(shown, None, f"invalid YAML: {exc}")]) from None
    if len(nodes) > 1:
        line = nodes[1].start_mark.line + 1
        raise RulesErrors([RulesError(shown, line, "a rule file holds exactly one YAML document")])
    return nodes[0] if nodes else None


class _Walker:
    def __init__(self, shown: Path) -> None:
        self.shown = shown
        self.lines: dict[Path_, int] = {}
        self.errors: list[RulesError] = []

    def fail(self, node: Any, message: str) -> None:
        self.errors.append(RulesError(self.shown, node.start_mark.line + 1, message))

    def build(self, node: Any, where: Path_, depth: int) -> Any:
        from ruamel.yaml.nodes import ScalarNode, SequenceNode

        self.lines.setdefault(where, node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
            return None
        tag = node.tag
        if isinstance(node, ScalarNode):
            return self.scalar(node, tag)
        if not tag.startswith(_STANDARD) or tag[len(_STANDARD):] not in {"map", "seq"}:
            self.fail(node, f"tag {tag!r} is not allowed in rule files")
            return None
        if isinstance(node, SequenceNode):
            return [self.build(item, (*where, i), depth + 1) for i, item in enumerate(node.value)]
        return self.mapping(node, where, depth)  # the only other kind of node

    def mapping(self, node: Any, where: Path_, depth: int) -> dict[str, Any]:
        from ruamel.yaml.nodes import ScalarNode

        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STANDARD + "merge":
                self.fail(key_node, "merge keys (<<) are not allowed in rule files")
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STANDARD + "str":
                self.fail(key_node, "keys must be plain strings")
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in out:
                self.fail(key_node, f"duplicate key {key!r} (first defined on line "
                                    f"{first_line[key]})")
                continue
            first_line[key] = line
            self.lines[(*where, key)] = line
            out[key] = self.build(value_node, (*where, key), depth + 1)
        return out

    def scalar(self, node: Any, tag: str) -> Any:
        reader = _SCALAR_READERS.get(tag)
        if reader is None:
            self.fail(node, f"tag {tag!r} is not allowed in rule files")
            return None
        text = str(node.value)
        try:
            return reader(text)
        except ValueError as exc:
            self.fail(node, f"cannot read {text!r} as {tag.removeprefix(_STANDARD)}: {exc}")
            return None


def _read_int(text: str) -> int:
    digits = text.replace("_", "")
    # 0x1F, 0o17, 0b11 by their prefix (lower case: YAML 1.2 reads 0X1F as a string); 012 is
    # twelve (YAML 1.2 has no C-style octal)
    return int(digits, 0) if re.match(r"[-+]?0[xob]", digits) else int(digits)


def _read_float(text: str) -> float:
    # YAML's .inf and .nan (any case) become Python's, to be refused with the overflows below
    value = float(text.lower().replace(".inf", "inf").replace(".nan", "nan").replace("_", ""))
    if not math.isfinite(value):
        raise ValueError("infinite and NaN numbers are not allowed in rules")
    return value


_SCALAR_READERS: dict[str, Any] = {  # by the tag the YAML 1.2 resolver gave the scalar
    _STANDARD + "str": str,
    _STANDARD + "int": _read_int,
    _STANDARD + "float": _read_float,
    _STANDARD + "bool": lambda text: text.lower() == "true",
    _STANDARD + "null": lambda text: None,
}
