"""What porttray knows about programs: one table, read by every layer. Pure.

Each row is one program: the kind shown for it, how it is recognised in the process table, whether
an HTTP request may be sent to it, whether it is a system daemon (hidden by `hide_system`), and the
well-known ports it serves, which are never probed whoever holds them. Rows are tried in order and
the first match wins, so specific rows come before general ones (fastapi runs uvicorn in-process,
Phoenix and RabbitMQ both run as Erlang's `beam.smp`; everything on Node is "node", last).

Each row is modelled on what the real program shows in the process table (argv[0], the 15-character
`comm`, rewritten titles such as `next-server (v14.2.3)` or `postgres: checkpointer`); the test
table in tests/unit/test_programs.py has a line per row, recorded from the real programs where they
run here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tray.cmdline import (
    Command,
    Matcher,
    all_of,
    any_of,
    has_path,
    has_word,
    head,
    parse,
    runs,
    runs_with,
)


@dataclass(frozen=True, slots=True)
class Program:
    """One row of the table."""

    kind: str
    """What the server is called when nothing better is known ("vite", "postgres")."""
    names: frozenset[str]
    """Process names that are this program on sight (cheap checks: system daemons, no-probe)."""
    matches: Matcher
    """Whether a command line is this program."""
    probe: bool = True
    """Whether an HTTP request may be sent: False for databases, brokers, mail and shells, which
    log one as an attack or a protocol error."""
    system: bool = False
    """A service a developer did not start: hidden with `hide_system`."""
    ports: tuple[int, ...] = ()
    """Its well-known ports, never probed whatever process holds them."""


def row(
    kind: str,
    *names: str,
    match: Matcher | None = None,
    probe: bool = True,
    system: bool = False,
    ports: tuple[int, ...] = (),
) -> Program:
    """A row; without `match` the program is recognised by `names` alone."""
    return Program(kind, frozenset(names), match or runs(*names), probe, system, ports)


def _php_builtin_server(command: Command) -> bool:
    return re.fullmatch(r"php[\d.]*", command.word(0)) is not None and "-S" in command.args


_NODE = "node_modules/"

PROGRAMS: tuple[Program, ...] = (
    # JavaScript dev servers and frameworks
    row("vite", match=any_of(runs("vite"), has_path(f"{_NODE}vite/"))),
    row("next", match=any_of(runs("next", "next-server"), has_path(f"{_NODE}next/"))),
    row("angular", match=any_of(runs_with(("ng",), ("serve", "s", "dev")))),
    row(
        "webpack-dev-server",
        match=any_of(
            runs("webpack-dev-server", "vue-cli-service"),
            runs_with(("webpack", "webpack-cli"), ("serve",)),
        ),
    ),
    row("nuxt", match=any_of(runs("nuxt", "nuxi"), has_path(f"{_NODE}nuxt/", f"{_NODE}nuxi/"))),
    row("astro", match=any_of(runs("astro"), has_path(f"{_NODE}astro/"))),
    row("sveltekit", match=any_of(runs("svelte-kit"), has_path(f"{_NODE}@sveltejs/kit/"))),
    row("remix", match=runs("remix", "remix-serve")),
    row("gatsby", match=any_of(runs("gatsby"), has_path(f"{_NODE}gatsby/"))),
    row("docusaurus", match=any_of(runs("docusaurus"), has_path(f"{_NODE}@docusaurus/"))),
    row(
        "storybook",
        match=any_of(
            runs("storybook", "start-storybook", "sb"),
            has_path(f"{_NODE}storybook/", f"{_NODE}@storybook/"),
        ),
    ),
    # Python
    row("mlflow", match=any_of(runs("mlflow"), has_path("mlflow.server"))),
    row("fastapi", match=runs_with(("fastapi",), ("dev", "run"))),
    row("flask", match=runs("flask")),
    row(
        "django",
        match=runs_with(("manage", "django-admin", "django"), ("runserver", "runserver_plus")),
    ),
    row("mkdocs", match=runs_with(("mkdocs",), ("serve",))),
    row("streamlit", match=runs("streamlit")),
    row("gradio", match=any_of(runs("gradio"), has_path("gradio/"))),
    row("tensorboard", match=runs("tensorboard")),
    row("uvicorn", match=runs("uvicorn")),
    row("gunicorn", match=runs("gunicorn")),
    row("hypercorn", match=runs("hypercorn")),
    row(
        "jupyter",
        match=any_of(
            runs("jupyter-lab", "jupyter-notebook", "jupyter-server", "jupyterlab", "notebook"),
            runs("jupyter_server"),
            runs_with(("jupyter",), ("lab", "notebook", "server")),
        ),
    ),
    row("http.server", match=runs("http.server", "simplehttpserver")),
    # Ruby, Elixir, JVM, .NET, PHP, Go and friends
    row("rails", match=any_of(runs_with(("rails",), ("server", "s")), runs("puma"))),
    row("phoenix", match=has_word("phx.server")),
    row(
        "rabbitmq",
        "rabbitmq-server",
        match=any_of(runs("rabbitmq-server"), all_of(runs("beam.smp"), has_path("rabbit"))),
        probe=False,
        ports=(5672, 5671, 25672),
    ),
    row("erlang", "beam.smp", "beam", "epmd", probe=False, ports=(4369,)),
    row("kafka", match=has_path("kafka.Kafka"), probe=False, ports=(9092,)),
    row("zookeeper", match=has_path("org.apache.zookeeper"), probe=False, ports=(2181,)),
    row("spring-boot", match=has_path("org.springframework.boot", "spring-boot")),
    row(
        "aspnet",
        match=any_of(
            runs_with(("dotnet",), ("run", "watch")),
            has_path("/bin/Debug/net", "/bin/Release/net", "\\bin\\Debug\\net"),
        ),
    ),
    row("hugo", match=runs("hugo")),
    row("jekyll", match=runs("jekyll")),
    row("php", match=_php_builtin_server),
    row("openssl s_server", match=runs_with(("openssl",), ("s_server",))),
    row("ollama", match=runs("ollama")),
    row("minio", match=runs("minio")),
    row("caddy", match=runs("caddy")),
    row("docker-proxy", match=runs("docker-proxy")),
    # Databases and caches: never probed
    row("postgres", "postgres", "postmaster", probe=False, ports=(5432,)),
    row(
        "redis",
        "redis-server",
        "redis-sentinel",
        "valkey-server",
        "valkey-sentinel",
        "keydb-server",
        probe=False,
        ports=(6379, 26379),
    ),
    row("mysql", "mysqld", probe=False, ports=(3306, 33060)),
    row("mariadb", "mariadbd", probe=False),
    row("mongodb", "mongod", "mongos", probe=False, ports=(27017, 27018, 27019)),
    row("memcached", "memcached", probe=False, ports=(11211,)),
    row("mssql", "sqlservr", probe=False, ports=(1433,)),
    row("cassandra", match=has_path("org.apache.cassandra"), probe=False, ports=(9042,)),
    row("nats", "nats-server", probe=False, ports=(4222,)),
    row("mosquitto", "mosquitto", probe=False, ports=(1883, 8883)),
    # System services: hidden with hide_system; those that are not HTTP never probed
    row("sshd", "sshd", "sshd-session", "dropbear", probe=False, system=True, ports=(22,)),
    row(
        "mail",
        "master",
        "exim4",
        "exim",
        "sendmail",
        "postfix",
        "dovecot",
        probe=False,
        system=True,
        ports=(25, 465, 587, 110, 143, 993, 995),
    ),
    row(
        "dns",
        "named",
        "dnsmasq",
        "systemd-resolve",
        "systemd-resolved",
        "unbound",
        probe=False,
        system=True,
        ports=(53,),
    ),
    row("cups", "cupsd", "cups-browsed", probe=False, system=True, ports=(631,)),
    row("rpcbind", "rpcbind", "rpc.statd", probe=False, system=True, ports=(111,)),
    row("samba", "smbd", "nmbd", probe=False, system=True, ports=(139, 445)),
    row("xrdp", "xrdp", "xrdp-sesman", probe=False, system=True, ports=(3389, 3350)),
    row("ldap", "slapd", probe=False, system=True, ports=(389, 636)),
    row("ntp", "chronyd", "ntpd", probe=False, system=True),
    row(
        "system",
        "systemd",
        "avahi-daemon",
        "containerd",
        "dockerd",
        "kdeconnectd",
        "sddm",
        "gdm",
        "lightdm",
        "colord",
        system=True,
    ),
    row("nginx", "nginx", system=True),
    row("apache", "apache2", "httpd", system=True),
    # Runtimes, last: a framework on them is named above
    row("deno", match=runs("deno")),
    row("bun", match=runs("bun")),
    row("node", match=runs("node", "nodejs")),
)
"""The rows, most specific first. Extend by adding a row (and a line to its test table)."""

SYSTEM_NAMES: frozenset[str] = frozenset().union(*(p.names for p in PROGRAMS if p.system))
"""Process names of system daemons."""
NO_PROBE_NAMES: frozenset[str] = frozenset().union(*(p.names for p in PROGRAMS if not p.probe))
"""Process names never sent an HTTP request (the default of the `no_probe` setting)."""
QUIET_PORTS: frozenset[int] = frozenset(port for p in PROGRAMS for port in p.ports)
"""Well-known ports of protocols other than HTTP: never probed, whatever process holds them."""
_BY_KIND = {p.kind: p for p in PROGRAMS}


def program_of(name: str | None, cmdline: Sequence[str]) -> Program | None:
    """The first row the process matches, or None."""
    return _program_of(name, head(cmdline))


@functools.lru_cache(maxsize=256)
def _program_of(name: str | None, cmdline: tuple[str, ...]) -> Program | None:
    """Matching walks every row's matchers (about a millisecond): a process is asked about again
    on each probe retry and menu build, and its command line does not change."""
    command = parse(name, cmdline)
    return next((p for p in PROGRAMS if p.matches(command)), None)


def kind_of(name: str | None, cmdline: Sequence[str]) -> str | None:
    """The kind of server a process runs, or None when no row matches."""
    program = program_of(name, cmdline)
    return program.kind if program else None


def by_kind(kind: str | None) -> Program | None:
    """The row of a kind."""
    return _BY_KIND.get(kind) if kind else None
