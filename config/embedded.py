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
    # platformdirs (imported by pgserver) warns when XDG_RUNTIME_DIR is unset.
    runtime_dir = data_dir.parent / "run"
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import pgserver

    server = pgserver.get_server(data_dir, cleanup_mode=None)
    # pgserver names the socket folder in the query string (?host=...); dj-database-url
    # reads a socket folder from a percent-encoded host, which lands in Django's HOST.
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    return f"postgres://postgres@{quote(socket_dir, safe='')}/postgres"


def embedded_stop(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL in data_dir if it is running."""
    import subprocess

    if not (data_dir / "postmaster.pid").exists():
        return
    import pgserver

    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    subprocess.run([str(pg_ctl), "-D", str(data_dir), "-m", "fast", "stop"], check=False)  # noqa: S603


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        embedded_stop(Path(os.environ.get("PLATFORM_DATA_DIR", ".data")) / "pg")
