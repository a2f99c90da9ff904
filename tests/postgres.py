"""A throwaway PostgreSQL server for tests, and the runner of the database-sensitive tests on it.

    python -m tests.postgres run -- [pytest arguments]

starts a private server from the machine's PostgreSQL binaries in a temporary directory on
127.0.0.1, runs `pytest -m postgres_too` with DATABASE_URL pointing at it, removes the server
and exits with pytest's status. PostgreSQL refuses to run as root, so as root the server runs
as the `postgres` system user.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
MARKER = "postgres_too"
# Lets tests run by this runner fail loudly if settings ignored DATABASE_URL and fell back to SQLite.
EXPECT_ENV = "CROWDSWAP_EXPECT_POSTGRES"


class PostgresUnavailable(RuntimeError):
    """The machine has no PostgreSQL server binaries (the only reason to skip PostgreSQL tests)."""


def find_bin_dir() -> Path:
    """Return the directory holding initdb, pg_ctl and postgres."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    # Debian keeps the server binaries off PATH, one directory per major version; prefer the newest.
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in versions]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for(db: dict) -> str:
    """Return a DATABASE_URL for a Django database settings dict (to point subprocesses at it)."""
    engine, name = db["ENGINE"], str(db["NAME"])
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    if engine.endswith("postgresql"):
        auth = f"{quote(db['USER'])}:{quote(db.get('PASSWORD') or '')}@" if db.get("USER") else ""
        return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{quote(name)}"
    raise ValueError(f"cannot express a {engine} database as a DATABASE_URL")


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only."""

    user = "postgres"  # the superuser role inside the cluster, trusted on loopback

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.port = 0
        self.tmp: Path | None = None
        # PostgreSQL refuses to run as root: hand the cluster to the postgres system user then.
        self.run_as = "postgres" if os.geteuid() == 0 else None

    @property
    def data_dir(self) -> Path:
        assert self.tmp is not None, "server not started"
        return self.tmp / "data"

    def _command(self, *args: str) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; wait until it accepts connections."""
        parent = tempfile.gettempdir()
        if self.run_as and not os.stat(parent).st_mode & 0o001:
            parent = "/tmp"  # the postgres user must be able to reach its data directory
        self.tmp = Path(tempfile.mkdtemp(prefix="crowdswap-pg-", dir=parent))
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.tmp, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                str(self.bin_dir / "initdb"),
                *("-D", str(self.data_dir), "-U", self.user, "-A", "trust", "-E", "UTF8"),
                *("--locale=C", "--no-sync"),
            )
            # Loopback only, socket inside the temp dir, durability off: a test database is disposable.
            options = (
                f"-h 127.0.0.1 -k {self.tmp} -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            # A port can be taken between free_port() and bind: try a few.
            for _ in range(5):
                self.port = free_port()
                try:
                    self._run(
                        str(self.bin_dir / "pg_ctl"),
                        *("-D", str(self.data_dir), "-l", str(self.tmp / "server.log"), "-w", "-t", "120"),
                        *("-o", f"{options} -p {self.port}", "start"),
                        timeout=180,
                    )
                    break
                except RuntimeError as exc:
                    if "could not bind" not in self.log():
                        raise RuntimeError(f"{exc}\nserver log:\n{self.log()}") from exc
            else:
                raise RuntimeError(f"PostgreSQL could not bind a port:\n{self.log()}")
        except BaseException:
            self.stop()
            raise
        return self

    def log(self) -> str:
        """Return the server log (for failure messages)."""
        path = self.tmp / "server.log" if self.tmp else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        """Return a DATABASE_URL for a database of this server."""
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create a database and return its DATABASE_URL."""
        import psycopg

        with psycopg.connect(self.url().replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server immediately and remove its directory."""
        if self.tmp is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"warning: could not stop the test PostgreSQL: {exc}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_pytest_on_postgres(pytest_args: list[str]) -> int:
    """Run the postgres_too tests against a throwaway server; return pytest's exit code."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailable as exc:
        print(f"[postgres] skipping the PostgreSQL run: {exc}", file=sys.stderr)
        return 0
    with PostgresServer(bin_dir) as server:
        url = server.create_database("crowdswap")
        print(f"[postgres] running -m {MARKER} tests against {url}", file=sys.stderr, flush=True)
        env = {**os.environ, "DATABASE_URL": url, EXPECT_ENV: "1"}
        # -p tests.postgres loads pytest_configure below, which refuses to run on anything but PostgreSQL.
        command = [sys.executable, "-m", "pytest", "-p", "tests.postgres", "-m", MARKER, *pytest_args]
        return subprocess.run(command, cwd=ROOT, env=env).returncode


def pytest_configure(config: object) -> None:
    """Stop a run that was promised PostgreSQL but whose settings chose another database."""
    if not os.environ.get(EXPECT_ENV):
        return
    import pytest
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if not engine.endswith("postgresql"):
        raise pytest.UsageError(f"DATABASE_URL points at PostgreSQL but settings use {engine}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.postgres", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the postgres_too tests on a throwaway PostgreSQL")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="arguments for pytest, after --")
    serve = sub.add_parser("serve", help="start a throwaway PostgreSQL, print its URL, stop on Enter")
    serve.add_argument("--database", default="crowdswap")
    args = parser.parse_args(argv)
    if args.command == "run":
        pytest_args = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        return run_pytest_on_postgres(pytest_args)
    with PostgresServer() as server:
        print(server.create_database(args.database), flush=True)
        try:
            input()
        except (EOFError, KeyboardInterrupt):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
