"""porttray: a tray menu of the local servers running on this machine, by port."""

__version__ = "0.1.0"
