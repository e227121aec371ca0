"""The project a server runs in, named from the folders above its working directory.

A git work tree is the project: its root folder's name, and for a linked worktree (`git worktree
add`) `repo@worktree`, so two checkouts of one repository running side by side are told apart.
Outside git, the nearest folder holding a manifest (package.json, pyproject.toml, Cargo.toml,
go.mod) is the project's root: its manifest's name wins, else the root folder's name. Without a
root, the working directory's own name stands in. The home directory and "/" are never a project (a
dotfiles repository in home would otherwise name every server), so the search stops below them.
Manifests are read with a size cap and a malformed one is passed over, never raised.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable

MAX_MANIFEST = 1 << 20
"""Bytes read from a manifest at most."""

_GO_MODULE = re.compile(r"^\s*module\s+\"?([^\s\"]+)", re.MULTILINE)
_GO_MAJOR = re.compile(r"v\d+")


def project_name(cwd: str | None, *, home: str | None = None) -> str | None:
    """The project name for a working directory, or None for home, "/" or no directory."""
    if not cwd:
        return None
    start = os.path.normpath(cwd)
    home = os.path.expanduser("~") if home is None else home
    stops = {os.path.normpath(home), _real(home)}
    tree = _git_tree(start, stops)
    if tree is not None:
        return tree
    folder = start
    while folder not in stops and os.path.dirname(folder) != folder:
        name = _root_name(folder)
        if name:
            return name
        folder = os.path.dirname(folder)
    if start in stops or os.path.dirname(start) == start:
        return None
    return os.path.basename(start) or None


def _git_tree(start: str, stops: set[str]) -> str | None:
    """The name of the git work tree holding `start` ("repo" or "repo@worktree"), or None."""
    folder = start
    while folder not in stops and os.path.dirname(folder) != folder:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            return os.path.basename(folder) or None
        if os.path.isfile(dot_git):
            repo = _linked_repo(dot_git, folder)
            name = os.path.basename(folder)
            return f"{repo}@{name}" if repo and repo != name else name or None
        folder = os.path.dirname(folder)
    return None


def _linked_repo(dot_git: str, folder: str) -> str | None:
    """For a linked worktree's `.git` file (gitdir: <repo>/.git/worktrees/<name>), the main
    repository's folder name; None for anything else (a submodule's .git file, say)."""
    try:
        with open(dot_git, encoding="utf-8", errors="replace") as file:
            line = file.read(4096).strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    gitdir = os.path.normpath(os.path.join(folder, line.removeprefix("gitdir:").strip()))
    common, sep, _name = gitdir.rpartition(f"{os.sep}worktrees{os.sep}")
    if not sep:
        return None
    repo = os.path.dirname(common) if os.path.basename(common) == ".git" else common
    return os.path.basename(repo).removesuffix(".git") or None


def _root_name(folder: str) -> str | None:
    """The project name when `folder` is a project root, else None."""
    is_root = False
    for manifest, reader in _MANIFESTS:
        path = os.path.join(folder, manifest)
        if not os.path.isfile(path):
            continue
        is_root = True
        name = _read(path, reader)
        if name:
            return name
    if is_root or os.path.exists(os.path.join(folder, ".git")):
        return os.path.basename(folder) or None
    return None


def _read(path: str, reader: Callable[[str], object]) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            name = reader(file.read(MAX_MANIFEST))
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # unreadable or malformed: the folder's name will do
    return name.strip() if isinstance(name, str) and name.strip() else None


def _package_json(text: str) -> object:
    return json.loads(text).get("name")


def _pyproject(text: str) -> object:
    data = tomllib.loads(text)
    return data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")


def _cargo(text: str) -> object:
    return tomllib.loads(text).get("package", {}).get("name")


def _go_mod(text: str) -> object:
    match = _GO_MODULE.search(text)
    if match is None:
        return None
    parts = [p for p in match.group(1).split("/") if p]
    if len(parts) > 1 and _GO_MAJOR.fullmatch(parts[-1]):
        parts.pop()  # example.com/tool/v2 is "tool"
    return parts[-1] if parts else None


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.normpath(path)


_MANIFESTS: tuple[tuple[str, Callable[[str], object]], ...] = (
    ("package.json", _package_json),
    ("pyproject.toml", _pyproject),
    ("Cargo.toml", _cargo),
    ("go.mod", _go_mod),
)
