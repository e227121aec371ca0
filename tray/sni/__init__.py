"""porttray's own StatusNotifierItem + com.canonical.dbusmenu exporter (Linux, no GTK).

`layout` is pure: menu entries → dbusmenu nodes with stable ids, and the difference between two
trees as the signals a host needs. `pixmap` draws the icon sizes. `services` holds the dbus-fast
interfaces, `session` the bus connection and the watcher registration, and `icon` the
`pystray._base.Icon` subclass that lets porttray's app code drive all of it unchanged.
"""
