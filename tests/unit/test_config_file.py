"""The settings file on disk: "Hide port N" edits that keep comments and order (and leave a broken
or foreign file alone), and the watcher that applies edits, keeps the last good settings and
reports a problem once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tray.config import (
    DEFAULT,
    Config,
    ConfigError,
    ConfigWatcher,
    Rule,
    add_ignore_rule,
    load,
    rule_for,
)

# --- add_ignore_rule ---------------------------------------------------------------------------

COMMENTED = """\
# my porttray settings
interval = 1.0  # a bit slower

# the shop
[[rules]]
port = 5173  # vite
label = "Shop"
"""


def test_add_ignore_rule_keeps_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    path.chmod(0o640)
    add_ignore_rule(path, 9229)
    assert path.read_text(encoding="utf-8") == COMMENTED + (
        '\n[[rules]]\nport = 9229\non_open = "ignore"\n'
    )
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
    config = load(path)
    assert rule_for(config, 9229, "node", "node --inspect") == Rule(
        lo=9229, hi=9229, on_open="ignore"
    )
    assert config.rules[0].label == "Shop"


def test_add_ignore_rule_to_a_file_without_rules(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# settings\nnotifications = false\n", encoding="utf-8")
    add_ignore_rule(path, 8000)
    add_ignore_rule(path, 8001)
    assert path.read_text(encoding="utf-8") == (
        "# settings\nnotifications = false\n\n"
        '[[rules]]\nport = 8000\non_open = "ignore"\n\n'
        '[[rules]]\nport = 8001\non_open = "ignore"\n'
    )


def test_add_ignore_rule_creates_the_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "porttray" / "config.toml"
    add_ignore_rule(path, 8080)
    assert path.read_text(encoding="utf-8") == '[[rules]]\nport = 8080\non_open = "ignore"\n'
    assert load(path).rules == (Rule(lo=8080, hi=8080, on_open="ignore"),)


@pytest.mark.parametrize(
    "earlier",
    ['ports = "3000-9000"\nlabel = "dev"', 'match = "node"\non_open = "silent"', "port = 5173"],
)
def test_hide_port_wins_over_an_earlier_rule_about_that_port(tmp_path: Path, earlier: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"# mine\n[[rules]]\n{earlier}\n", encoding="utf-8")
    add_ignore_rule(path, 5173)
    config = load(path)
    assert rule_for(config, 5173, "node", "node vite") == Rule(lo=5173, hi=5173, on_open="ignore")
    assert len(config.rules) == 2 and path.read_text(encoding="utf-8").startswith("# mine\n")


def test_add_ignore_rule_edits_a_symlinked_file_where_it_points(tmp_path: Path) -> None:
    (tmp_path / "dotfiles").mkdir()
    target = tmp_path / "dotfiles" / "porttray.toml"
    target.write_text("interval = 1.0\n", encoding="utf-8")
    link = tmp_path / "config.toml"
    link.symlink_to(target)
    add_ignore_rule(link, 8080)
    assert link.is_symlink() and link.resolve() == target
    assert 'on_open = "ignore"' in target.read_text(encoding="utf-8")
    assert load(link).rules == (Rule(lo=8080, hi=8080, on_open="ignore"),)


def test_add_ignore_rule_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    add_ignore_rule(path, 8080)
    before = (path.read_text(encoding="utf-8"), path.stat().st_ino)
    add_ignore_rule(path, 8080)
    assert (path.read_text(encoding="utf-8"), path.stat().st_ino) == before


def test_add_ignore_rule_to_an_inline_array(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("rules = [{port = 1}]  # inline\n", encoding="utf-8")
    add_ignore_rule(path, 2)
    assert path.read_text(encoding="utf-8") == (
        'rules = [{port = 1}, {port = 2, on_open = "ignore"}]  # inline\n'
    )
    assert [r.on_open for r in load(path).rules] == ["notify", "ignore"]


def test_add_ignore_rule_leaves_a_broken_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("interval = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        add_ignore_rule(path, 8080)
    assert path.read_text(encoding="utf-8") == "interval = \n"
    with pytest.raises(ValueError, match="not a port"):
        add_ignore_rule(tmp_path / "other.toml", 0)
    assert not (tmp_path / "other.toml").exists()


# --- ConfigWatcher -----------------------------------------------------------------------------


def test_watcher_sees_edits_keeps_the_last_good_and_reports_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    watcher = ConfigWatcher(path)
    assert watcher.check() == (DEFAULT, None)
    assert watcher.check() is None

    path.write_text("interval = 2\n", encoding="utf-8")
    good = Config(interval=2.0)
    assert watcher.check() == (good, None)
    assert watcher.check() is None

    path.write_text("interval = 2\nnotifications = maybe\n", encoding="utf-8")
    answer = watcher.check()
    assert answer is not None
    config, error = answer
    assert config == good
    assert error is not None
    assert error.line == 2
    assert watcher.check() is None
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))  # touched, same bad text: told already
    assert watcher.check() is None
    assert watcher.config == good

    path.write_text("interval = 2\nnotifications = perhaps\n", encoding="utf-8")
    answer = watcher.check()
    assert answer is not None
    assert answer[0] == good
    assert answer[1] is not None

    path.write_text("interval = 3  # fixed\n", encoding="utf-8")
    assert watcher.check() == (Config(interval=3.0), None)
    path.unlink()
    assert watcher.check() == (DEFAULT, None)
    assert watcher.check() is None


def test_watcher_reports_an_unreadable_file_once(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()
    watcher = ConfigWatcher(path)
    answer = watcher.check()
    assert answer is not None
    assert answer[0] == DEFAULT
    assert answer[1] is not None
    assert "cannot read" in str(answer[1])
    assert watcher.check() is None
