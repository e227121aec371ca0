"""Menu data → pystray items: the one place the tray's menu meets pystray's classes.

`tray.menu` builds the menu as plain frozen values; this adapter turns them into `pystray.MenuItem`s
on the UI thread, binding each action to the click dispatcher.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tray import menu


def to_pystray(
    pystray: Any, items: tuple[menu.Item, ...], dispatch: Callable[[menu.Action], None]
) -> list[Any]:
    """Menu data → pystray items. Actions are bound with closures: pystray counts parameters.

    Every item carries its menu key as `.key` (see `keyed_item`), which the StatusNotifierItem
    backend turns into a stable dbusmenu id; other backends ignore it.
    """
    keyed = keyed_item(pystray)
    built: list[Any] = []
    for item in items:
        if item.label == "-" and not item.children:
            built.append(pystray.Menu.SEPARATOR)  # backends compare it by identity
        elif item.children:
            sub = to_pystray(pystray, item.children, dispatch)
            menu_ = pystray.Menu(*sub)
            built.append(keyed(item.label, menu_, enabled=item.enabled, key=item.key))
        else:
            checked = _constant(item.checked) if item.checked is not None else None
            action = _bind(dispatch, item.action)
            built.append(
                keyed(item.label, action, enabled=item.enabled, checked=checked, key=item.key)
            )
    return built


@functools.cache
def keyed_item(pystray: Any) -> Any:
    """A `pystray.MenuItem` that also carries a menu key (one class per pystray module).

    pystray wraps every constant attribute (enabled, visible, radio, default, an absent check
    mark) in a closure of its own, and a menu of 50 servers has about 460 items, built afresh on
    every change; here the constants share one function each (see benchmarks/bench_backends.py).
    """

    class KeyedMenuItem(pystray.MenuItem):  # type: ignore[misc]
        def __init__(self, text: str, action: Any, *, key: str = "", **kwargs: Any) -> None:
            super().__init__(text, action, **kwargs)
            self.key = key

        def _wrap(self, value: Any) -> Any:
            if isinstance(value, bool):
                return _true if value else _false
            return super()._wrap(value)

        def _assert_callable(self, value: Any, default: Any) -> Any:
            return _unchecked if value is None else super()._assert_callable(value, default)

    return KeyedMenuItem


def _true(_item: Any) -> bool:
    return True


def _false(_item: Any) -> bool:
    return False


def _unchecked(_item: Any) -> None:
    return None


def _bind(
    dispatch: Callable[[menu.Action], None], action: menu.Action | None
) -> Callable[[Any, Any], None]:
    """pystray calls an action with (icon, item); one taking both is kept unwrapped."""

    def clicked(_icon: Any, _item: Any) -> None:
        if action is not None:
            dispatch(action)

    return clicked


def _constant(value: bool) -> Callable[[Any], bool]:
    return _true if value else _false
