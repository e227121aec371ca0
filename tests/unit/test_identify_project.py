"""The project name, found in real folder trees made under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tray.identify.project import project_name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home" / "u"
    folder.mkdir(parents=True)
    return folder


def make(root: Path, files: dict[str, str | bytes]) -> None:
    """Write `files` (relative path -> content; a path ending in "/" is a folder) under root."""
    for relative, content in files.items():
        path = root / relative
        if relative.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


# (files under home, cwd relative to home, expected name)
CASES: list[tuple[dict[str, str | bytes], str, str | None]] = [
    ({"shop/package.json": '{"name": "acme-shop"}', "shop/src/": ""}, "shop/src", "acme-shop"),
    ({"shop/package.json": '{"name": "@acme/web"}'}, "shop", "@acme/web"),
    ({"shop/package.json": '{"private": true}', "shop/src/": ""}, "shop/src", "shop"),
    ({"shop/package.json": "{not json", "shop/src/": ""}, "shop/src", "shop"),
    ({"shop/package.json": "[1, 2]"}, "shop", "shop"),
    ({"shop/package.json": '{"name": 42}'}, "shop", "shop"),
    ({"shop/package.json": b"\xff\xfe\x00garbage"}, "shop", "shop"),
    (
        {"api/pyproject.toml": '[project]\nname = "acme-api"\n', "api/app/": ""},
        "api/app",
        "acme-api",
    ),
    ({"api/pyproject.toml": '[tool.poetry]\nname = "poetic"\n'}, "api", "poetic"),
    ({"api/pyproject.toml": "[project\nname = ", "api/app/": ""}, "api/app", "api"),
    ({"api/pyproject.toml": "project = 3\n"}, "api", "api"),
    ({"rs/Cargo.toml": '[package]\nname = "acme-rs"\n', "rs/src/": ""}, "rs/src", "acme-rs"),
    ({"rs/Cargo.toml": '[workspace]\nmembers = ["a"]\n'}, "rs", "rs"),
    ({"go/go.mod": "module github.com/acme/tool\n\ngo 1.22\n", "go/cmd/": ""}, "go/cmd", "tool"),
    ({"go/go.mod": "// comment\nmodule github.com/acme/tool/v2\n"}, "go", "tool"),
    ({"go/go.mod": 'module "example.com/quoted"\n'}, "go", "quoted"),
    ({"go/go.mod": "go 1.22\n"}, "go", "go"),
    ({"repo/.git/": "", "repo/a/b/": ""}, "repo/a/b", "repo"),
    # a linked worktree names its repository too; a submodule's .git file does not
    ({"wt/.git": "gitdir: /src/shop/.git/worktrees/wt\n", "wt/x/": ""}, "wt/x", "shop@wt"),
    ({"fix/.git": "gitdir: /src/shop.git/worktrees/fix-1\n"}, "fix", "shop@fix"),
    ({"shop/.git": "gitdir: /src/shop/.git/worktrees/shop\n"}, "shop", "shop"),
    ({"sub/.git": "gitdir: ../.git/modules/sub\n"}, "sub", "sub"),
    ({"odd/.git": "not a gitdir line"}, "odd", "odd"),
    ({"plain/deep/er/": ""}, "plain/deep/er", "er"),
    # the nearest root wins, and a package.json inside a workspace names that package
    (
        {
            "mono/package.json": '{"name": "mono"}',
            "mono/packages/web/package.json": '{"name": "web"}',
        },
        "mono/packages/web",
        "web",
    ),
    # a git work tree is the project, whatever manifests lie within it
    ({"mono/.git/": "", "mono/svc/pyproject.toml": '[project]\nname="svc"\n'}, "mono/svc", "mono"),
    ({"acme/.git/": "", "acme/package.json": '{"name": "@acme/web"}'}, "acme", "acme"),
    # a package.json that is a folder is no manifest
    ({"odd/package.json/": "", "odd/.git/": ""}, "odd", "odd"),
    # a dotfiles repository in home never names anything
    ({".git/": "", "package.json": '{"name": "dotfiles"}', "scratch/": ""}, "scratch", "scratch"),
    ({".git/": ""}, ".", None),
]


@pytest.mark.parametrize(("files", "cwd", "expected"), CASES)
def test_project_name(
    home: Path, files: dict[str, str | bytes], cwd: str, expected: str | None
) -> None:
    make(home, files)
    assert project_name(str(home / cwd), home=str(home)) == expected


def test_no_directory_and_the_root_have_no_project(home: Path) -> None:
    assert project_name(None, home=str(home)) is None
    assert project_name("", home=str(home)) is None
    assert project_name("/", home=str(home)) is None


def test_outside_home_the_search_stops_at_the_root(tmp_path: Path, home: Path) -> None:
    make(tmp_path, {"srv/app/Cargo.toml": '[package]\nname = "srv-app"\n', "srv/app/src/bin/": ""})
    assert project_name(str(tmp_path / "srv/app/src/bin"), home=str(home)) == "srv-app"
    assert project_name(str(tmp_path / "srv"), home=str(home)) == "srv"


def test_home_defaults_to_the_users_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("HOME", str(home))
    make(home, {".git/": "", "notes/": ""})
    assert project_name(str(home)) is None
    assert project_name(str(home / "notes")) == "notes"


def test_home_reached_through_a_symlink_still_stops_the_search(tmp_path: Path, home: Path) -> None:
    link = tmp_path / "link-to-home"
    link.symlink_to(home)
    make(home, {"package.json": '{"name": "dotfiles"}', "work/": ""})
    assert project_name(str(home / "work"), home=str(link)) == "work"
    assert project_name(str(home), home=str(link)) is None


def test_an_unreadable_manifest_still_marks_the_root(home: Path) -> None:
    # /proc/self/mem is a regular file that fails to read at offset 0, even for root
    make(home, {"locked/sub/": ""})
    (home / "locked" / "package.json").symlink_to("/proc/self/mem")
    assert project_name(str(home / "locked" / "sub"), home=str(home)) == "locked"


def test_a_real_git_worktree_is_repo_at_worktree(tmp_path: Path, home: Path) -> None:
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        pytest.skip("needs git")
    repo = tmp_path / "shop"
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}

    def run(*args: str, cwd: Path = repo) -> None:
        subprocess.run([git, *args], cwd=cwd, env=env, check=True, capture_output=True)

    repo.mkdir()
    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
    run("worktree", "add", "-q", str(tmp_path / "shop-fix"))
    (repo / "web").mkdir()
    (tmp_path / "shop-fix" / "web").mkdir()
    assert project_name(str(repo / "web"), home=str(home)) == "shop"
    assert project_name(str(tmp_path / "shop-fix" / "web"), home=str(home)) == "shop@shop-fix"
