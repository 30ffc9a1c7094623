"""The embedded PostgreSQL: a real server from the pgserver wheel, for machines without one.

Used only when DATABASE_URL is not set. The server keeps running after the process that
started it exits (so `make run`, the tests and manage.py share it) and keeps its data in a
project-local folder that `make reset` wipes.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL in data_dir and return its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    _runtime_dir(data_dir)
    import pgserver

    server = pgserver.get_server(data_dir, cleanup_mode=None)
    # pgserver names the socket folder in the query string (?host=...); dj-database-url
    # reads a socket folder from a percent-encoded host, which lands in Django's HOST.
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    return f"postgres://postgres@{quote(socket_dir, safe='')}/postgres"


def _runtime_dir(data_dir: Path) -> None:
    # platformdirs (imported by pgserver) warns when XDG_RUNTIME_DIR is unset.
    runtime_dir = data_dir.parent / "run"
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))


def embedded_stop(data_dir: Path) -> bool:
    """Stop the embedded PostgreSQL in data_dir if it is running; tell whether it is down.

    Run as root, pgserver runs the server as its own system user `pgserver`, and pg_ctl
    refuses root: it is run as that user too.
    """
    import subprocess

    if not (data_dir / "postmaster.pid").exists():
        return True
    _runtime_dir(data_dir)
    import pgserver

    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    as_user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    done = subprocess.run(  # noqa: S603
        [str(pg_ctl), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
        check=False,
        user=as_user,
    )
    return done.returncode == 0


if __name__ == "__main__":
    import sys

    data = Path(os.environ.get("PLATFORM_DATA_DIR", ".data")) / "pg"
    if sys.argv[1:] == ["stop"] and not embedded_stop(data):
        sys.exit("The embedded PostgreSQL did not stop; .data is left as it is.")
