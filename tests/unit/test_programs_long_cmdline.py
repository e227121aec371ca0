"""Telling a kind from a huge command line costs only its head: a program with 100,000 arguments
(or one argument of 100,000 characters) is read no further than `tray.cmdline.HEAD_CHARS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from tray.cmdline import HEAD_CHARS
from tray.programs import kind_of


class CountingArgs(Sequence[str]):
    """A command line of `length` arguments that counts how many were read."""

    def __init__(self, length: int, arg: str) -> None:
        self.length, self.arg, self.reads = length, arg, 0

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            raise TypeError("read one argument at a time")
        if not 0 <= index < self.length:
            raise IndexError(index)
        self.reads += 1
        return self.arg

    def __iter__(self) -> Iterator[str]:
        for _ in range(self.length):
            self.reads += 1
            yield self.arg


def test_a_huge_command_line_is_read_only_up_to_its_head() -> None:
    args = CountingArgs(100_000, "x")
    assert kind_of("java", args) is None
    assert args.reads <= HEAD_CHARS // 2 + 1


def test_one_huge_argument_is_cut_to_the_head() -> None:
    assert kind_of("node", ("node", "a" * 100_000, "--port", "3000")) == "node"
    assert kind_of("python3", ("python3", "-m", "http.server", "x" * 100_000)) == "http.server"


def test_what_lies_past_the_head_is_not_seen() -> None:
    padding = ("--x",) * (HEAD_CHARS // 4 + 1)
    assert kind_of("python3", ("python3", *padding, "-m", "http.server")) is None
    assert kind_of("python3", ("python3", "-m", "http.server", *padding)) == "http.server"
