"""Reading one YAML rule file safely (`_yaml_source.read_yaml`), in-process.

tests/test_adversarial_rules.py proves the same refusals end to end through the CLI; these tests
pin the exact line and message of each one, and the limits at their edge, where a mutation test
(docs/testing.md) can see them. Every expected line is counted by hand from the text written in
the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mgassist._core.errors import RulesErrors
from mgassist._rulebook.yaml_source import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    Budget,
    Located,
    read_yaml,
)

NODE_LIMIT = (f"too large: a rule set may hold at most {MAX_NODES:,} YAML nodes (keys, values, "
              "lists and mappings) in all its files, passed on this line")
ALIAS = "YAML aliases (*name) are not allowed in rule files; write the value out"
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "rules.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read(tmp_path: Path, content: str | bytes, budget: Budget | None = None) -> Located:
    return read_yaml(write(tmp_path, content), display="shown.yaml", budget=budget)


def refusals(tmp_path: Path, content: str | bytes,
             budget: Budget | None = None) -> list[tuple[str, int | None, str]]:
    with pytest.raises(RulesErrors) as caught:
        read(tmp_path, content, budget)
    return [(str(e.path), e.line, e.message) for e in caught.value.errors]


FIVE_KEYS = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n"  # 11 nodes: the mapping, then a key and a value a line


# -- plain data and the line of every path -------------------------------------------------------

def test_data_and_lines_of_a_nested_document(tmp_path: Path) -> None:
    located = read(tmp_path, "a:\n  - 1\n  - b: 2\n    c:\n      - 3\n")
    assert located.data == {"a": [1, {"b": 2, "c": [3]}]}
    assert located.path == Path("shown.yaml")
    assert dict(located.lines) == {(): 1, ("a",): 1, ("a", 0): 2, ("a", 1): 3,
                                   ("a", 1, "b"): 3, ("a", 1, "c"): 4, ("a", 1, "c", 0): 5}


def test_line_of_falls_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    located = read(tmp_path, "a:\n  - 1\n  - b: 2\n    c:\n      - 3\n")
    assert located.line_of(("a", 1, "c", 0)) == 5
    assert located.line_of(("a", 1, "missing", 7)) == 3  # ("a", 1) starts on line 3
    assert located.line_of(("missing",)) == 1  # the document itself
    assert Located(Path("x.yaml"), None).line_of(("a",)) is None
    error = located.error(("a", 1, "c"), "something wrong")
    assert (error.path, error.line, error.message) == (Path("shown.yaml"), 4, "something wrong")


def test_a_key_keeps_its_own_line_when_its_value_starts_later(tmp_path: Path) -> None:
    located = read(tmp_path, "top:\n\n\n  inner: 1\n")
    assert located.lines[("top",)] == 1
    assert located.lines[("top", "inner")] == 4


def test_scalars_are_read_as_yaml_1_2(tmp_path: Path) -> None:
    located = read(tmp_path, "a: 0x1F\nb: 1_000\nc: 1.5e3\nd: True\ne: ~\nf: 0o17\ng: -0b11\n"
                             "h: +12\ni: false\nj: null\nk: '0x10'\nl: 1_0.5\nm: -.5\nn: 012\n"
                             "o: 1__000\np: 1__0.5\nq: 1_\nr: 0xff_ff\ns: 1.5E+3\nt: 1.\n"
                             "u: 0X1F\n")
    assert located.data == {"a": 31, "b": 1000, "c": 1500.0, "d": True, "e": None, "f": 15,
                            "g": -3, "h": 12, "i": False, "j": None, "k": "0x10", "l": 10.5,
                            "m": -0.5, "n": 12, "o": 1000, "p": 10.5, "q": 1, "r": 65535,
                            "s": 1500.0, "t": 1.0, "u": "0X1F"}
    assert type(located.data["c"]) is float and type(located.data["n"]) is int


@pytest.mark.parametrize("text", [".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "1e999",
                                  "-2.5e400"])
def test_infinite_and_nan_numbers_are_refused_at_their_line(tmp_path: Path, text: str) -> None:
    assert refusals(tmp_path, f"a: 1\nb: {text}\n") == [
        ("shown.yaml", 2, f"cannot read {text!r} as float: infinite and NaN numbers are not "
                          "allowed in rules")]


def test_an_empty_file_or_only_a_comment_is_no_data(tmp_path: Path) -> None:
    assert read(tmp_path, "").data is None
    assert read(tmp_path, "# nothing here\n").data is None


def test_an_explicit_document_end_is_still_one_document(tmp_path: Path) -> None:
    assert read(tmp_path, "---\na: 1\n...\n").data == {"a": 1}


# -- YAML features a rule file never needs -------------------------------------------------------

def test_an_alias_is_refused_at_the_line_where_it_is_used(tmp_path: Path) -> None:
    # the anchor is on line 2, the first alias on line 4, a second one on line 5
    assert refusals(tmp_path, "a: 1\nb: &x [1, 2]\nc: 3\nd: *x\ne: *x\n") == [
        ("shown.yaml", 4, ALIAS)]


def test_an_alias_in_a_list_is_located_too(tmp_path: Path) -> None:
    assert refusals(tmp_path, "- &x [1]\n-\n  - 2\n  - *x\n") == [("shown.yaml", 4, ALIAS)]


def test_an_alias_bomb_is_refused_before_anything_is_expanded(tmp_path: Path) -> None:
    lines = ['l0: &l0 "lol"']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    assert refusals(tmp_path, "\n".join(lines) + "\n") == [("shown.yaml", 2, ALIAS)]


def test_merge_keys_are_named_and_the_keys_after_them_still_checked(tmp_path: Path) -> None:
    assert refusals(tmp_path, "a: {b: 1}\n<<: {c: 2}\nd: !x 3\n") == [
        ("shown.yaml", 2, "merge keys (<<) are not allowed in rule files"),
        ("shown.yaml", 3, "tag '!x' is not allowed in rule files")]


def test_a_quoted_double_angle_key_is_only_a_string(tmp_path: Path) -> None:
    assert read(tmp_path, "'<<': 2\n").data == {"<<": 2}


def test_keys_that_are_not_strings_are_refused_at_their_lines(tmp_path: Path) -> None:
    assert refusals(tmp_path, "? [1]\n: 2\nname: x\n1: 3\n") == [
        ("shown.yaml", 1, "keys must be plain strings"),
        ("shown.yaml", 4, "keys must be plain strings")]


@pytest.mark.parametrize(("content", "line", "tag"), [
    ("a: !aaaaaaaaaaaaaaaaastr x\n", 1, "!aaaaaaaaaaaaaaaaastr"),  # ends like a standard one
    ("a: !!python/str x\n", 1, "tag:yaml.org,2002:python/str"),
    ("a: 1\nb: !!python/object:os.system 1\n", 2, "tag:yaml.org,2002:python/object:os.system"),
    ("a: !!python/name:os.system\n", 1, "tag:yaml.org,2002:python/name:os.system"),
    ("a:\n  b: !include other.yaml\n", 2, "!include"),
    ("a: !!set {x}\n", 1, "tag:yaml.org,2002:set"),
    ("a: !!omap [x: 1]\n", 1, "tag:yaml.org,2002:omap"),
    ("a: !!binary aGk=\n", 1, "tag:yaml.org,2002:binary"),
    ("a: !!timestamp 2001-12-14\n", 1, "tag:yaml.org,2002:timestamp"),
    ("a: !custom [1]\n", 1, "!custom"),
])
def test_tags_are_refused_and_never_constructed(tmp_path: Path, content: str, line: int,
                                                tag: str) -> None:
    assert refusals(tmp_path, content) == [
        ("shown.yaml", line, f"tag {tag!r} is not allowed in rule files")]


def test_the_standard_map_and_seq_tags_written_out_are_accepted(tmp_path: Path) -> None:
    assert read(tmp_path, "a: !!map {b: !!seq [1], c: !!str 2}\n").data == {
        "a": {"b": [1], "c": "2"}}


def test_duplicate_keys_are_refused_with_the_first_definition(tmp_path: Path) -> None:
    assert refusals(tmp_path, "a: 1\nb:\n  x: 1\n  x: 2\n  y: !x 1\na: 3\nc: 1\nc: 2\n") == [
        ("shown.yaml", 4, "duplicate key 'x' (first defined on line 3)"),
        ("shown.yaml", 5, "tag '!x' is not allowed in rule files"),  # checking goes on
        ("shown.yaml", 6, "duplicate key 'a' (first defined on line 1)"),
        ("shown.yaml", 8, "duplicate key 'c' (first defined on line 7)")]


def test_every_problem_of_a_file_is_reported_in_order(tmp_path: Path) -> None:
    assert refusals(tmp_path, "a: !x 1\nb: .nan\n3: c\n") == [
        ("shown.yaml", 1, "tag '!x' is not allowed in rule files"),
        ("shown.yaml", 2, "cannot read '.nan' as float: infinite and NaN numbers are not "
                          "allowed in rules"),
        ("shown.yaml", 3, "keys must be plain strings")]


@pytest.mark.parametrize(("content", "line"), [
    ("a: 1\n---\nb: 2\n", 3),
    ("---\na: 1\n---\nb: 2\n", 4),
    ("a: 1\n...\n---\n- 2\n", 4),
])
def test_a_second_document_is_refused_where_it_starts(tmp_path: Path, content: str,
                                                      line: int) -> None:
    assert refusals(tmp_path, content) == [
        ("shown.yaml", line, "a rule file holds exactly one YAML document")]


# -- YAML syntax errors --------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "line", "message"), [
    ("a: 1\n  b: 2\n", 2, "invalid YAML: mapping values are not allowed here"),
    # an unclosed bracket: noticed where the next key is, and said where it was opened
    ("a: 1\nb: [1, 2\nc: 3\n", 3,
     "invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence on line 2)"),
    # noticed at the end of the file: the line is the last line, not one past it
    ("a: 1\nb: {x: 1\n", 2,
     "invalid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping "
     "on line 2)"),
    ("a: 1\nb: 'abc\n", 2,
     "invalid YAML: found unexpected end of stream (while scanning a quoted scalar on line 2)"),
    ("a: 1\nb: 2\n\tc: 3\n", 3,
     "invalid YAML: found character '\\t' that cannot start any token"),
    # an error before the last line keeps its own line
    ("a: 1\n  b: 2\nc: 3\nd: 4\n", 2, "invalid YAML: mapping values are not allowed here"),
    # a one-line file, and a file without a final newline, noticed at their end
    ("a: [\n", 1, "invalid YAML: expected the node content, but found '<stream end>'"),
    ("a: 1\nb: {x: 1", 2,
     "invalid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow mapping "
     "on line 2)"),
])
def test_syntax_errors_give_their_line_and_context(tmp_path: Path, content: str, line: int,
                                                   message: str) -> None:
    assert refusals(tmp_path, content) == [("shown.yaml", line, message)]


@pytest.mark.parametrize("failure", [RecursionError("maximum recursion depth exceeded"),
                                     ValueError("something odd")])
def test_anything_else_the_parser_raises_is_an_error_of_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    # a backstop: no rule file known to us gets here, but if one does it is refused, not a crash
    from ruamel.yaml import YAML

    def broken(self: object, stream: object) -> object:
        raise failure
    monkeypatch.setattr(YAML, "compose_all", broken)
    assert refusals(tmp_path, "a: 1\n") == [("shown.yaml", None, f"invalid YAML: {failure}")]


# -- bytes that are not UTF-8 text ---------------------------------------------------------------

@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_is_named(tmp_path: Path, bom: bytes) -> None:
    body = "a: 1\n".encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be")
    assert refusals(tmp_path, bom + body) == [
        ("shown.yaml", 1, "not valid UTF-8: the file is UTF-16 (it starts with a UTF-16 byte "
                          "order mark); save it as UTF-8")]


def test_a_latin1_byte_is_refused_at_its_line(tmp_path: Path) -> None:
    assert refusals(tmp_path, "a: 1\nb: 2\nc: caf\xe9\n".encode("latin-1")) == [
        ("shown.yaml", 3, "not valid UTF-8 (byte 0xe9)")]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    assert read(tmp_path, "\ufeffa: 1\n").data == {"a": 1}


@pytest.mark.parametrize(("char", "code"), [("\x00", "0000"), ("\x1b", "001B"), ("\x7f", "007F")])
@pytest.mark.parametrize("before", ["a: 1\nb: 2\n", "\n\n"])  # the first line may be empty
def test_control_characters_are_refused_at_their_line(tmp_path: Path, char: str, code: str,
                                                      before: str) -> None:
    assert refusals(tmp_path, f"{before}c: x{char}y\n") == [
        ("shown.yaml", 3, f"character U+{code} is not allowed in a rule file (control "
                          "characters are not text)")]


# -- files that are not regular files ------------------------------------------------------------

def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesErrors) as caught:
        read_yaml(tmp_path / "absent.yaml", display="absent.yaml")
    [error] = caught.value.errors
    assert (str(error.path), error.line) == ("absent.yaml", None)
    assert error.message == "cannot read file: No such file or directory"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_or_a_folder_is_refused_without_reading(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block forever
    for target in (tmp_path / "pipe.yaml", tmp_path):
        with pytest.raises(RulesErrors) as caught:
            read_yaml(target, display="x.yaml")
        assert [(str(e.path), e.line, e.message) for e in caught.value.errors] == [
            ("x.yaml", None, "not a regular file; a rule file is a YAML text file")]


def test_without_display_the_real_path_is_shown(tmp_path: Path) -> None:
    path = write(tmp_path, "a: [\n")
    with pytest.raises(RulesErrors) as caught:
        read_yaml(path)
    assert caught.value.errors[0].path == path


# -- the limits, at their edge -------------------------------------------------------------------

def nested_lists(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels + "\n"


def nested_mappings(levels: int) -> str:
    keys = [f"{'  ' * i}k{i}:" for i in range(levels)]
    return "\n".join([*keys, "  " * levels + "leaf"]) + "\n"


def test_exactly_max_depth_lists_are_accepted_one_more_is_refused(tmp_path: Path) -> None:
    data = read(tmp_path, nested_lists(MAX_DEPTH)).data
    for _ in range(MAX_DEPTH):
        [data] = data
    assert data == 1
    assert refusals(tmp_path, nested_lists(MAX_DEPTH + 1)) == [("shown.yaml", 1, TOO_DEEP)]
    assert refusals(tmp_path, "a:\n  b: " + nested_lists(MAX_DEPTH)) == [
        ("shown.yaml", 2, TOO_DEEP)]  # two mappings and 40 lists


def test_exactly_max_depth_mappings_are_accepted_one_more_is_refused(tmp_path: Path) -> None:
    located = read(tmp_path, nested_mappings(MAX_DEPTH))
    path = tuple(f"k{i}" for i in range(MAX_DEPTH))
    assert located.lines[path] == MAX_DEPTH
    data = located.data
    for key in path:
        data = data[key]
    assert data == "leaf"
    # 41 mappings: the leaf, on line 42, is the first thing too deep
    assert refusals(tmp_path, nested_mappings(MAX_DEPTH + 1)) == [
        ("shown.yaml", MAX_DEPTH + 2, TOO_DEEP)]
    # a 41st mapping of two keys: refused at the second key, on line 42
    two_keys = nested_mappings(MAX_DEPTH).replace("leaf", "x: 1\n" + "  " * MAX_DEPTH + "y: 2")
    assert refusals(tmp_path, two_keys) == [("shown.yaml", MAX_DEPTH + 2, TOO_DEEP)]
    # 40 mappings, the deepest of two keys: accepted
    siblings = nested_mappings(MAX_DEPTH - 1).replace("leaf", "x: 1\n" + "  " * (MAX_DEPTH - 1)
                                                      + "y: 2")
    assert read(tmp_path, siblings).lines[(*(f"k{i}" for i in range(MAX_DEPTH - 1)), "y")] == 41


def test_a_very_deep_structure_is_refused_while_scanning(tmp_path: Path) -> None:
    # 100,000 brackets would exhaust the recursion of the parser if they were ever parsed
    assert refusals(tmp_path, "a: 1\nb: 2\nc: " + "[" * 100_000 + "\n") == [
        ("shown.yaml", 3, TOO_DEEP)]


@pytest.mark.parametrize(("nodes", "line"), [
    (6, 3),    # the 7th node is the value 3
    (7, 4),    # the 8th is the key d
    (10, 5),   # the 11th, the value 5, is the last node of the file
])
def test_the_node_limit_is_located_where_it_is_passed(tmp_path: Path, nodes: int,
                                                      line: int) -> None:
    budget = Budget(nodes=nodes)
    assert refusals(tmp_path, FIVE_KEYS, budget) == [("shown.yaml", line, NODE_LIMIT)]
    assert budget.passed


def test_a_file_of_exactly_the_nodes_left_is_read_and_spends_them(tmp_path: Path) -> None:
    budget = Budget(nodes=11)
    assert read(tmp_path, FIVE_KEYS, budget).data == {k: i for i, k in enumerate("abcde", 1)}
    assert (budget.nodes, budget.bytes, budget.passed) == (0, MAX_BYTES - len(FIVE_KEYS), False)


def test_the_byte_limit_is_located_and_reads_no_further(tmp_path: Path) -> None:
    budget = Budget(bytes=12)  # "a: 1\nb: 2\nc:" : passed on line 3
    assert refusals(tmp_path, FIVE_KEYS, budget) == [
        ("shown.yaml", 3, f"too large: a rule set may hold at most {MAX_BYTES:,} bytes in all "
                          "its files, passed on this line (this file is 25 bytes)")]
    assert budget.passed and budget.bytes == 12


def test_a_file_over_the_byte_limit_is_not_read_whole(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int | None] = []
    original = Path.open

    def spied(self: Path, *args: Any, **kwargs: Any) -> Any:
        stream = original(self, *args, **kwargs)
        read = stream.read

        def counted(size: int | None = -1) -> Any:
            asked.append(size)
            return read(size)
        stream.read = counted
        return stream
    monkeypatch.setattr(Path, "open", spied)
    budget = Budget(bytes=100)
    refusals(tmp_path, "a: 1\n" * 10_000, budget)  # 50,000 bytes
    assert asked == [101]  # one byte past the limit shows it is passed


def test_a_file_of_exactly_the_bytes_left_is_read(tmp_path: Path) -> None:
    budget = Budget(bytes=len(FIVE_KEYS))
    assert read(tmp_path, FIVE_KEYS, budget).data["e"] == 5
    assert (budget.bytes, budget.passed) == (0, False)


def test_one_budget_spans_the_files_of_a_rule_set(tmp_path: Path) -> None:
    budget = Budget(nodes=15)
    read(tmp_path, FIVE_KEYS, budget)  # 11 nodes
    assert refusals(tmp_path, "x: 1\ny: 2\nz: 3\n", budget) == [
        ("shown.yaml", 2, NODE_LIMIT)]  # 4 left: the mapping, x, 1, y; 2 on line 2 is the 5th


def test_the_default_budget_is_a_whole_rule_set(tmp_path: Path) -> None:
    big = "".join(f"k{i}: {i}\n" for i in range(MAX_NODES // 2))  # 1 + 2 x 10,000 nodes
    with pytest.raises(RulesErrors) as caught:
        read_yaml(write(tmp_path, big), display="shown.yaml")
    # the mapping and 9,999 lines hold 19,999 nodes; the key on line 10,000 is the 20,000th
    # and its value the 20,001st
    assert [(e.line, e.message) for e in caught.value.errors] == [(MAX_NODES // 2, NODE_LIMIT)]
