"""The program table: each row's kind, told from process names and command lines as Linux, macOS
and Windows show them, and what the table says about probing and system daemons.

Lines marked "recorded" were copied from `ps -o comm=,args=` (and /proc/<pid>/cmdline for empty
entries) with the real program running on this machine.
"""

from __future__ import annotations

import pytest

from tray.programs import NO_PROBE_NAMES, PROGRAMS, QUIET_PORTS, SYSTEM_NAMES, by_kind, kind_of

NM = "/home/u/shop/node_modules"

# (process name, command line, expected kind)
TABLE: list[tuple[str | None, tuple[str, ...], str | None]] = [
    ("node", ("node", f"{NM}/.bin/vite"), "vite"),
    ("node", ("node", f"{NM}/vite/bin/vite.js", "--port", "5173"), "vite"),
    (
        "node.exe",
        ("C:\\Program Files\\nodejs\\node.exe", "C:\\shop\\node_modules\\vite\\bin\\vite.js"),
        "vite",
    ),
    ("node", ("/usr/bin/node", f"{NM}/.bin/next", "dev"), "next"),
    ("next-server (v1", ("next-server (v14.2.3)",), "next"),
    ("next-server (v1", ("next-server (v14.2.35)", *("",) * 53), "next"),  # recorded (next 14.2)
    (
        "node",
        ("node", "/tmp/ptnode/node_modules/.bin/next", "dev", "-p", "18905"),
        "next",
    ),  # recorded
    (
        "node",
        ("node", "/tmp/ptnode/node_modules/.bin/vite", "--port", "18904", "--host", "127.0.0.1"),
        "vite",
    ),  # recorded (vite 8)
    ("ng serve --port", ("ng serve --port 4200",), "angular"),  # the CLI sets process.title
    ("node", ("node", f"{NM}/.bin/ng", "serve"), "angular"),
    ("node", ("node", f"{NM}/.bin/ng", "build"), "node"),
    ("node", ("node", f"{NM}/.bin/svelte-kit", "dev"), "sveltekit"),
    ("node", ("node", f"{NM}/@sveltejs/kit/svelte-kit.js", "preview"), "sveltekit"),
    ("node", ("node", f"{NM}/.bin/gatsby", "develop"), "gatsby"),
    ("node", ("node", f"{NM}/gatsby/dist/commands/develop-process.js"), "gatsby"),
    ("node", ("node", f"{NM}/.bin/docusaurus", "start"), "docusaurus"),
    ("node", ("node", f"{NM}/@docusaurus/core/bin/docusaurus.mjs", "serve"), "docusaurus"),
    ("node", ("node", f"{NM}/next/dist/server/lib/start-server.js"), "next"),
    ("node", ("node", f"{NM}/.bin/webpack-dev-server"), "webpack-dev-server"),
    (
        "node",
        ("node", f"{NM}/.bin/webpack", "serve", "--mode", "development"),
        "webpack-dev-server",
    ),
    ("node", ("node", f"{NM}/.bin/webpack", "--watch"), "node"),
    ("node", ("node", f"{NM}/.bin/vue-cli-service", "serve"), "webpack-dev-server"),
    ("node", ("node", f"{NM}/nuxi/bin/nuxi.mjs", "dev"), "nuxt"),
    ("node", ("node", f"{NM}/.bin/astro", "dev"), "astro"),
    ("node", ("node", f"{NM}/.bin/remix-serve", "build/index.js"), "remix"),
    ("node", ("node", f"{NM}/.bin/remix", "vite:dev"), "remix"),
    ("node", ("node", f"{NM}/storybook/bin/index.cjs", "dev", "-p", "6006"), "storybook"),
    ("node", ("node", f"{NM}/.bin/start-storybook", "-p", "6006"), "storybook"),
    ("flask", ("/venv/bin/python", "/venv/bin/flask", "run", "--debug"), "flask"),
    ("python3", ("python3", "-m", "flask", "--app", "api", "run"), "flask"),
    ("python3", ("python3", "manage.py", "runserver", "0:8000"), "django"),
    ("manage.py", ("/usr/bin/python3", "./manage.py", "runserver"), "django"),
    ("python3", ("python3", "manage.py", "migrate"), None),
    ("uvicorn", ("/venv/bin/python3", "/venv/bin/uvicorn", "main:app", "--reload"), "uvicorn"),
    ("python3.12", ("python3.12", "-m", "uvicorn", "main:app"), "uvicorn"),
    ("uv", ("uv", "run", "uvicorn", "main:app"), "uvicorn"),
    ("gunicorn", ("gunicorn: master [app:app]",), "gunicorn"),
    ("python3", ("python3", "-m", "hypercorn", "app:app"), "hypercorn"),
    ("fastapi", ("/venv/bin/python", "/venv/bin/fastapi", "dev", "main.py"), "fastapi"),
    ("fastapi", ("/venv/bin/python", "/venv/bin/fastapi", "run"), "fastapi"),
    ("streamlit", ("/venv/bin/python", "/venv/bin/streamlit", "run", "app.py"), "streamlit"),
    (
        "streamlit",
        (
            "/tmp/pt-progs/bin/python3",
            "/tmp/pt-progs/bin/streamlit",
            "run",
            "/tmp/ptdocs/app.py",
            "--server.port",
            "18902",
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ),
        "streamlit",
    ),  # recorded (streamlit 1.67)
    ("python3", ("python3", "-m", "streamlit", "run", "app.py"), "streamlit"),
    ("gradio", ("/venv/bin/python", "/venv/bin/gradio", "app.py"), "gradio"),
    (
        "mkdocs",
        ("/tmp/pt-progs/bin/python3", "/tmp/pt-progs/bin/mkdocs", "serve", "-a", "127.0.0.1:18901"),
        "mkdocs",
    ),  # recorded (mkdocs 1.6)
    ("mkdocs", ("/venv/bin/python3", "/venv/bin/mkdocs", "build"), None),
    (
        "tensorboard",
        ("/venv/bin/python3", "/venv/bin/tensorboard", "--logdir", "runs"),
        "tensorboard",
    ),
    ("mlflow", ("/venv/bin/python3", "/venv/bin/mlflow", "ui"), "mlflow"),
    ("gunicorn", ("/venv/bin/python3", "/venv/bin/gunicorn", "mlflow.server:app"), "mlflow"),
    (
        "beam.smp",
        (
            "/usr/lib/erlang/erts-14/bin/beam.smp",
            "--",
            "-root",
            "/usr/lib/erlang",
            "-extra",
            "--no-halt",
            "/usr/bin/mix",
            "phx.server",
        ),
        "phoenix",
    ),
    (
        "beam.smp",
        (
            "/usr/lib/erlang/erts-13/bin/beam.smp",
            "-W",
            "w",
            "--",
            "-root",
            "/usr/lib/erlang",
            "-pa",
            "/usr/lib/rabbitmq/lib/rabbitmq_server-3.12/ebin",
            "-s",
            "rabbit",
            "boot",
        ),
        "rabbitmq",
    ),
    ("epmd", ("/usr/bin/epmd", "-daemon"), "erlang"),
    (
        "java",
        ("java", "-Xmx1G", "-cp", "/opt/kafka/libs/*", "kafka.Kafka", "server.properties"),
        "kafka",
    ),
    (
        "java",
        ("java", "-cp", "/opt/zk/lib/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain"),
        "zookeeper",
    ),
    ("java", ("java", "-jar", "/home/u/demo/target/demo-0.0.1-SNAPSHOT.jar"), None),
    (
        "java",
        (
            "/usr/bin/java",
            "-cp",
            "/home/u/demo/target/classes:/home/u/.m2/repository/org/"
            "springframework/boot/spring-boot/3.3.0/spring-boot-3.3.0.jar",
            "com.example.DemoApplication",
        ),
        "spring-boot",
    ),
    ("java", ("java", "org.apache.cassandra.service.CassandraDaemon"), "cassandra"),
    ("dotnet", ("dotnet", "watch", "run"), "aspnet"),
    ("Shop.Api", ("/home/u/shop/bin/Debug/net8.0/Shop.Api",), "aspnet"),
    ("Shop.Api.exe", ("C:\\shop\\bin\\Debug\\net8.0\\Shop.Api.exe",), "aspnet"),
    ("deno", ("deno", "run", "--allow-net", "server.ts"), "deno"),
    ("deno", ("deno", "run", "-A", f"{NM}/vite/bin/vite.js"), "vite"),
    ("bun", ("bun", "run", "server.ts"), "bun"),
    ("bun", ("bun", "--hot", "index.ts"), "bun"),
    ("ollama", ("/usr/local/bin/ollama", "serve"), "ollama"),
    ("minio", ("minio", "server", "/data", "--console-address", ":9001"), "minio"),
    ("caddy", ("caddy", "run", "--config", "Caddyfile"), "caddy"),
    (
        "openssl",
        (
            "openssl",
            "s_server",
            "-accept",
            "18903",
            "-www",
            "-key",
            "/tmp/k.pem",
            "-cert",
            "/tmp/c.pem",
        ),
        "openssl s_server",
    ),  # recorded (OpenSSL 3.0)
    ("openssl", ("openssl", "s_client", "-connect", "localhost:4433"), None),
    ("sqlservr", ("/opt/mssql/bin/sqlservr",), "mssql"),
    ("nats-server", ("nats-server", "-p", "4222"), "nats"),
    ("mosquitto", ("/usr/sbin/mosquitto", "-c", "/etc/mosquitto/mosquitto.conf"), "mosquitto"),
    ("master", ("/usr/lib/postfix/sbin/master", "-w"), "mail"),
    ("exim4", ("/usr/sbin/exim4", "-bd", "-q30m"), "mail"),
    ("dnsmasq", ("/usr/sbin/dnsmasq", "--conf-file=/etc/dnsmasq.conf"), "dns"),
    ("systemd-resolve", ("/lib/systemd/systemd-resolved",), "dns"),
    ("cupsd", ("/usr/sbin/cupsd", "-l"), "cups"),
    ("rpcbind", ("/sbin/rpcbind", "-f", "-w"), "rpcbind"),
    ("smbd", ("/usr/sbin/smbd", "--foreground", "--no-process-group"), "samba"),
    ("xrdp", ("/usr/sbin/xrdp",), "xrdp"),
    ("slapd", ("/usr/sbin/slapd", "-h", "ldap:///"), "ldap"),
    ("chronyd", ("/usr/sbin/chronyd", "-F", "1"), "ntp"),
    ("avahi-daemon", ("avahi-daemon: running [host.local]",), "system"),
    ("nginx", ("nginx: master process /usr/sbin/nginx -g daemon on;",), "nginx"),
    ("apache2", ("/usr/sbin/apache2", "-k", "start"), "apache"),
    ("ruby", ("ruby", "bin/rails", "server", "-p", "3000"), "rails"),
    ("ruby", ("/usr/bin/ruby", "/usr/local/bin/bundle", "exec", "rails", "s"), "rails"),
    ("ruby", ("puma 6.4.2 (tcp://localhost:3000) [shop]",), "rails"),
    ("ruby", ("ruby", "bin/rails", "console"), None),
    ("jupyter-lab", ("/usr/bin/python3", "/usr/local/bin/jupyter-lab"), "jupyter"),
    ("jupyter-noteboo", ("/usr/bin/python3", "/usr/local/bin/jupyter-notebook"), "jupyter"),
    ("jupyter-server", ("/usr/bin/python3", "/usr/local/bin/jupyter-server"), "jupyter"),
    ("python3", ("python3", "/usr/local/bin/jupyter", "lab", "--no-browser"), "jupyter"),
    ("python3", ("python3", "-m", "jupyterlab"), "jupyter"),
    ("python3", ("python3", "/usr/local/bin/jupyter", "nbconvert"), None),
    ("hugo", ("hugo", "server", "-D"), "hugo"),
    ("ruby", ("ruby", "/usr/local/bin/jekyll", "serve"), "jekyll"),
    ("python3", ("python3", "-m", "http.server", "8000"), "http.server"),
    (
        "python3",
        ("/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1"),
        "http.server",
    ),
    ("php", ("php", "-S", "localhost:8000", "-t", "public"), "php"),
    ("php8.2", ("php8.2", "-S", "127.0.0.1:8080"), "php"),
    ("php-fpm8.2", ("php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)",), None),
    (
        "docker-proxy",
        ("/usr/bin/docker-proxy", "-proto", "tcp", "-host-port", "5432"),
        "docker-proxy",
    ),
    ("postgres", ("/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/postgresql"), "postgres"),
    ("postgres", ("postgres: checkpointer ",), "postgres"),
    ("redis-server", ("redis-server *:6379",), "redis"),
    ("valkey-server", ("/usr/bin/valkey-server", "127.0.0.1:6379"), "redis"),
    ("mysqld", ("/usr/sbin/mysqld",), "mysql"),
    ("mariadbd", ("/usr/sbin/mariadbd", "--basedir=/usr"), "mariadb"),
    ("mongod", ("/usr/bin/mongod", "--config", "/etc/mongod.conf"), "mongodb"),
    ("memcached", ("/usr/bin/memcached", "-m", "64", "-p", "11211"), "memcached"),
    ("sshd", ("sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",), "sshd"),
    ("node", ("node", "server.js"), "node"),
    ("node", ("node", "--inspect", "dist/main.js"), "node"),
    ("node", (), "node"),
    ("python3", ("python3", "app.py"), None),
    ("python3", ("python3", "-m", "myapp"), None),
    ("java", ("java", "-jar", "app.jar"), None),
    (None, (), None),
    ("", ("",), None),
]


@pytest.mark.parametrize(("name", "cmdline", "kind"), TABLE)
def test_kind_table(name: str | None, cmdline: tuple[str, ...], kind: str | None) -> None:
    assert kind_of(name, cmdline) == kind


def test_every_row_of_the_program_table_has_a_line_in_the_test_table() -> None:
    kinds = [p.kind for p in PROGRAMS]
    assert len(kinds) == len(set(kinds)), "two rows of one kind"
    assert {k for _, _, k in TABLE if k} == set(kinds)


def test_databases_brokers_and_daemons_are_never_probed_and_their_ports_are_quiet() -> None:
    for kind in ("postgres", "redis", "mysql", "mongodb", "memcached", "rabbitmq", "sshd", "mail"):
        program = by_kind(kind)
        assert program is not None and not program.probe, kind
    assert {"postgres", "redis-server", "memcached", "sshd", "beam.smp"} <= NO_PROBE_NAMES
    assert {5432, 6379, 11211, 3306, 27017, 5672, 9092, 2181, 22, 25, 53, 631} <= QUIET_PORTS
    assert not QUIET_PORTS & {80, 443, 3000, 5000, 5173, 8000, 8080, 8888}


def test_system_daemons_are_hidden_but_dev_servers_and_databases_are_not() -> None:
    assert {"sshd", "cupsd", "systemd-resolve", "nginx", "dockerd"} <= SYSTEM_NAMES
    assert not SYSTEM_NAMES & {"node", "python3", "postgres", "redis-server", "docker-proxy"}
