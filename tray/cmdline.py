"""Command lines reduced to what tells programs apart, and the matchers of the program table. Pure.

Matchers look at what the command runs: the process name, the program, and for an interpreter or a
launcher (`python manage.py`, `node node_modules/.bin/vite`, `python -m uvicorn`, `npx astro`) the
script or module it runs, plus that target's first plain argument (`rails server`, `jupyter lab`).

Only the first HEAD_CHARS characters of the command line are read, so a 100,000-character Java
command line costs what a short one does.
"""

from __future__ import annotations

import ntpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HEAD_CHARS = 4096
"""Characters of the command line looked at, at most."""

_INTERPRETER = re.compile(r"node|nodejs|bun|deno|(?:python|pypy|ruby|perl)[\d.]*")
_LAUNCHERS = frozenset({"bundle", "npx", "bunx", "pnpx", "pnpm", "npm", "yarn", "uv", "uvx"})
_LAUNCHERS |= frozenset({"poetry", "pipenv", "env", "exec", "run", "x", "dlx", "tool"})
_SUFFIXES = (".js", ".mjs", ".cjs", ".py", ".exe", ".cmd", ".bat")
_COMM = 15
"""Linux cuts process names to 15 characters ("jupyter-noteboo")."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command line cut to its head, reduced to what matchers look at."""

    name: str
    """The process name, lower case, without ".exe"."""
    args: tuple[str, ...]
    """The arguments as given (within the head)."""
    words: tuple[str, ...]
    """The arguments lower case; paths reduced to their last part without a script suffix."""
    target: int
    """The index in `words` of what runs: the program, or the script or module it is handed."""

    @property
    def runners(self) -> tuple[str, ...]:
        """The process name, the program, and the script or module run."""
        return (self.name, self.words[0] if self.words else "", self.word(self.target))

    @property
    def verb(self) -> str:
        """The target's first argument that is no option (`server` in `rails server -p 3000`)."""
        return next((w for w in self.words[self.target + 1 :] if not w.startswith("-")), "")

    def word(self, index: int) -> str:
        """The word at `index`, or "" past the end."""
        return self.words[index] if index < len(self.words) else ""


Matcher = Callable[[Command], bool]


def runs(*names: str) -> Matcher:
    """The command runs one of `names` (as process, program, script or module)."""
    wanted = frozenset(names)
    return lambda c: any(_named(r, wanted) for r in c.runners)


def runs_with(names: Sequence[str], verbs: Sequence[str]) -> Matcher:
    """The command runs one of `names` with one of `verbs` as its first plain argument."""
    ran, wanted = runs(*names), frozenset(verbs)
    return lambda c: ran(c) and c.verb in wanted


def has_path(*fragments: str) -> Matcher:
    """Some argument is a path containing one of `fragments` ("node_modules/next/")."""
    return lambda c: any(f in a.replace("\\", "/") for a in c.args for f in fragments)


def has_word(*wanted: str) -> Matcher:
    """Some argument, reduced as in `Command.words`, is one of `wanted` ("phx.server")."""
    names = frozenset(wanted)
    return lambda c: any(w in names for w in c.words)


def all_of(*matchers: Matcher) -> Matcher:
    """Every one of `matchers` matches."""
    return lambda c: all(m(c) for m in matchers)


def any_of(*matchers: Matcher) -> Matcher:
    """One of `matchers` matches."""
    return lambda c: any(m(c) for m in matchers)


def parse(name: str | None, cmdline: Sequence[str]) -> Command:
    """The head of a command line as a `Command`."""
    args = tuple(a for a in head(cmdline) if a)  # Next.js leaves dozens of empty entries
    if len(args) == 1 and " " in args[0].strip():
        args = tuple(args[0].split())  # a rewritten process title: "postgres: checkpointer"
    words = tuple(_word(a) for a in args)
    first = (name or "").split(" (", 1)[0].split(": ", 1)[0]  # "next-server (v1", "ng serve"
    return Command(
        _word(first.split()[0] if first.strip() else "")[:64], args, words, _target(words)
    )


def head(cmdline: Sequence[str]) -> tuple[str, ...]:
    """The arguments within the first HEAD_CHARS characters (the last one cut there)."""
    head: list[str] = []
    left = HEAD_CHARS
    for arg in cmdline:
        if left <= 0:
            break
        head.append(arg[:left])
        left -= len(head[-1]) + 1
    return tuple(head)


def _word(arg: str) -> str:
    word = arg.lower().rstrip(":")
    if word.startswith("-"):
        return word
    word = ntpath.basename(word.rstrip("/\\"))  # splits at "/" and "\\"
    return next((word.removesuffix(s) for s in _SUFFIXES if word.endswith(s)), word)


def _target(words: tuple[str, ...]) -> int:
    """Past interpreters, launchers and their options to what they run (`-m module` included)."""
    index = 0
    while index < len(words) and (
        _INTERPRETER.fullmatch(words[index]) or words[index] in _LAUNCHERS
    ):
        index += 1
        while index < len(words) and words[index].startswith("-"):
            index += 1
            if words[index - 1] == "-m":
                return index
    return index if index < len(words) else 0


def _named(runner: str, wanted: frozenset[str]) -> bool:
    if runner in wanted:
        return True
    return len(runner) == _COMM and any(w.startswith(runner) for w in wanted)
