"""How a server is named to a person: in menu labels, notifications and the recently-closed list.

Pure. The best name is the page title, else the project, else what runs it (kind or process name);
a second part adds what the first leaves out, so `:5173  Acme Shop — acme-web` and
`:5000  flask — api` both tell which is which at a glance.
"""

from __future__ import annotations

from tray.model import Server, http_url

TITLE_LIMIT = 48


def runner(server: Server) -> str | None:
    """What runs the server: its recognised kind, else its process name."""
    return server.identity.kind or server.name


def container_label(server: Server) -> str | None:
    """The container behind the server: "acme-web (shop/web)" for Compose, else its name."""
    box = server.container
    if box is None:
        return None
    if box.project and box.service:
        return f"{box.name} ({box.project}/{box.service})"
    return box.name


def project(server: Server) -> str | None:
    """The server's project: its Compose project for a container (whose proxy's folder says
    nothing), else the one its process runs in."""
    box = server.container
    return box.project if box is not None else server.identity.project


def describe(server: Server) -> str:
    """The name of a server without its port ("Acme Shop — acme-web", "node — shop", "?")."""
    ident = server.identity
    title = _cut(ident.title) if ident.title else None
    boxed = container_label(server)
    if boxed is not None:
        return f"{title} — {boxed}" if title else boxed
    first = title or runner(server) or ident.project or "unknown process"
    second = ident.project if ident.project != first else None
    if title and second is None:
        second = runner(server)
    return f"{first} — {second}" if second and second != first else first


def label(server: Server, custom: str | None = None) -> str:
    """The menu label of a server: port, name (the user's, if given), and ⚠ when it is exposed."""
    warning = "  ⚠" if server.exposed else ""
    return f":{server.port}  {custom or describe(server)}{warning}"


def url_host(server: Server, setting: str) -> str | None:
    """The host for URLs: "localhost" when the user prefers it and it reaches the server."""
    if setting == "localhost" and server.host in ("127.0.0.1", "::1"):
        return "localhost"
    return None


def scheme(server: Server) -> str:
    """ "https" for servers found to speak TLS, else "http"."""
    return "https" if server.identity.protocol == "https" else "http"


def open_url(server: Server, host: str | None = None) -> str:
    """The URL Open in browser uses: a better one found while probing, else scheme://host:port."""
    if server.identity.open_url:
        return server.identity.open_url
    return address(server, host)


def address(server: Server, host: str | None = None) -> str:
    """The server's address as a URL on loopback (or on `host`, for example "localhost")."""
    return http_url(host or server.host or "127.0.0.1", server.port, scheme(server))


def speaks_http(server: Server) -> bool:
    """Whether a browser can open it: true until a probe says otherwise."""
    return server.identity.protocol != "other"


def _cut(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "…"
