"""Find, verify, download and open the ServiceNow incident event log.

The log is the UCI dataset "Incident management process enriched event log"
(Amaral, Fantinato and Peres, 2018, https://doi.org/10.24432/C57S4H, CC BY 4.0).
`locate_log` finds a copy through `AE_DEMO_LOG`, the shared copy or a verified
download, and `open_log_csv` opens its CSV text. No copy of the log is stored
in the repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

logger = logging.getLogger(__name__)

LOG_ENV_VAR = "AE_DEMO_LOG"
LOG_ZIP_NAME = "incident_event_log.zip"
LOG_CSV_NAME = "incident_event_log.csv"
# Digests of the UCI original: the 2,400,214-byte zip and the CSV member inside it.
LOG_ZIP_SHA256 = "6294e29a311647306bfdfc85783f7df66517c197b9cd49aa5ee36ba9c525d1d6"
LOG_CSV_SHA256 = "fd184bbfd62329cfe093e99da2ea7071905f2ead91900b448eb2635870821bef"
UCI_URL = (
    "https://archive.ics.uci.edu/static/public/498/"
    "incident+management+process+enriched+event+log.zip"
)
# Location of the shared copy, relative to the repository root.
SHARED_LOG_PATH = Path("../shared/data/uci-servicenow-incident-log") / LOG_ZIP_NAME
CACHE_DIR = Path(".devstack/cache")
DOWNLOAD_TIMEOUT_S = 10.0
# The UCI download is about 2.4 MB, so anything past this limit is not the log.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class IncidentLogError(Exception):
    """A copy of the incident log is unreadable, incomplete or failed to download."""


class ChecksumMismatchError(IncidentLogError):
    """A copy of the incident log differs from the published UCI file."""


@dataclass(frozen=True, slots=True)
class LogSource:
    """Where the demo reads its incidents from.

    `kind` is "explicit" (the `AE_DEMO_LOG` path), "shared", "download" or
    "synthetic". `path` is None only for "synthetic". `skipped` contains one
    reason per location that was tried and not used.
    """

    kind: str
    path: Path | None
    verified: bool
    skipped: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        return self.kind == "synthetic"


def find_repo_root(start: Path) -> Path | None:
    """Return the nearest directory at or above `start` with a Makefile and proto/."""
    for directory in (start, *start.parents):
        if (directory / "Makefile").is_file() and (directory / "proto").is_dir():
            return directory
    return None


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _check_digest(name: str, expected: str, actual: str) -> None:
    if actual != expected:
        raise ChecksumMismatchError(
            f"SHA-256 mismatch for {name}: expected {expected}, got {actual}. "
            "The file is corrupt or is not the UCI incident event log."
        )


def verify_log_file(path: Path) -> None:
    """Raise ChecksumMismatchError unless `path` contains the published log.

    Accepted are the UCI zip itself, a zip whose member `incident_event_log.zip`
    is that zip, a zip whose CSV member matches the published CSV, and the CSV.
    Raise IncidentLogError when a zip has neither member.
    """
    with path.open("rb") as stream:
        digest = _sha256(stream)
    if digest == LOG_ZIP_SHA256 or digest == LOG_CSV_SHA256:
        return
    if not zipfile.is_zipfile(path):
        _check_digest(str(path), LOG_ZIP_SHA256, digest)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if LOG_ZIP_NAME in names:
            with archive.open(LOG_ZIP_NAME) as member:
                inner = _sha256(member)
            _check_digest(f"{path}!{LOG_ZIP_NAME}", LOG_ZIP_SHA256, inner)
        elif LOG_CSV_NAME in names:
            with archive.open(LOG_CSV_NAME) as member:
                inner = _sha256(member)
            _check_digest(f"{path}!{LOG_CSV_NAME}", LOG_CSV_SHA256, inner)
        else:
            raise IncidentLogError(
                f"{path} contains neither {LOG_ZIP_NAME} nor {LOG_CSV_NAME}: {names}"
            )


@contextlib.contextmanager
def open_log_csv(path: Path) -> Iterator[TextIO]:
    """Open the log's CSV text from a .csv file, the zip, or a zip around the zip."""
    if not zipfile.is_zipfile(path):
        with path.open(encoding="utf-8", newline="") as text:
            yield text
        return
    with contextlib.ExitStack() as stack:
        archive = stack.enter_context(zipfile.ZipFile(path))
        names = archive.namelist()
        if LOG_CSV_NAME not in names and LOG_ZIP_NAME in names:
            # The outer UCI download wraps the 2.4 MB zip, so read that into memory.
            inner = io.BytesIO(archive.read(LOG_ZIP_NAME))
            archive = stack.enter_context(zipfile.ZipFile(inner))
            names = archive.namelist()
        if LOG_CSV_NAME not in names:
            raise IncidentLogError(f"{path} has no member {LOG_CSV_NAME}: {names}")
        member = stack.enter_context(archive.open(LOG_CSV_NAME))
        yield io.TextIOWrapper(member, encoding="utf-8", newline="")


def fetch_log(
    cache_dir: Path, url: str = UCI_URL, timeout_s: float = DOWNLOAD_TIMEOUT_S
) -> Path:
    """Download the log into `cache_dir` unless a verified copy is there already.

    Return the path of the verified copy. Raise IncidentLogError when the
    download fails, takes longer than `timeout_s` or fails verification.
    """
    target = cache_dir / LOG_ZIP_NAME
    if target.is_file():
        try:
            verify_log_file(target)
            return target
        except IncidentLogError as error:
            logger.warning("Discarding cached incident log: %s", error)
            target.unlink()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / (LOG_ZIP_NAME + ".part")
    # NOTE: urlopen's timeout bounds the connection and each read, and the
    # deadline bounds the whole transfer, but neither bounds the DNS lookup.
    deadline = time.monotonic() + timeout_s
    logger.info("Downloading the incident log from %s", url)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            with partial.open("wb") as out:
                received = 0
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise IncidentLogError(
                            f"download exceeds {MAX_DOWNLOAD_BYTES} bytes"
                        )
                    if time.monotonic() > deadline:
                        raise IncidentLogError(
                            f"download timed out after {timeout_s} s"
                        )
                    out.write(chunk)
        _unwrap_download(partial, target)
    except (OSError, zipfile.BadZipFile) as error:
        raise IncidentLogError(f"download from {url} failed: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return target


def _unwrap_download(partial: Path, target: Path) -> None:
    """Move the verified log from the download at `partial` to `target`."""
    verify_log_file(partial)
    if zipfile.is_zipfile(partial):
        with zipfile.ZipFile(partial) as archive:
            if LOG_ZIP_NAME in archive.namelist():
                target.write_bytes(archive.read(LOG_ZIP_NAME))
                return
    partial.replace(target)


def locate_log(
    explicit: str | None,
    *,
    repo_root: Path | None = None,
    download: bool = True,
    url: str = UCI_URL,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> LogSource:
    """Find the incident log: `explicit`, the shared copy, the download, or none.

    `explicit` is the value of `AE_DEMO_LOG`, a .zip or the extracted .csv. A
    copy there that fails verification is still used, with a warning. A shared
    copy that fails verification is skipped. `repo_root` defaults to the nearest
    parent of this module with a Makefile and proto/. Raise FileNotFoundError
    when `explicit` names a file that does not exist.
    """
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{LOG_ENV_VAR}={explicit} not found. Set it to the path of "
                f"{LOG_ZIP_NAME} or {LOG_CSV_NAME}, or unset it."
            )
        try:
            verify_log_file(path)
            return LogSource("explicit", path, verified=True)
        except IncidentLogError as error:
            logger.warning("Using the unverified incident log %s: %s", path, error)
            return LogSource("explicit", path, verified=False)
    skipped = [f"{LOG_ENV_VAR} unset"]
    root = repo_root or find_repo_root(Path(__file__).resolve().parent)
    if root is None:
        skipped.append("repository root not found")
        return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))
    shared = (root / SHARED_LOG_PATH).resolve()
    if shared.is_file():
        try:
            verify_log_file(shared)
            return LogSource("shared", shared, verified=True, skipped=tuple(skipped))
        except IncidentLogError as error:
            logger.warning("Skipping the shared incident log: %s", error)
            skipped.append(f"{SHARED_LOG_PATH} invalid: {error}")
    else:
        skipped.append(f"{SHARED_LOG_PATH} absent")
    if not download:
        skipped.append("download disabled")
        return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))
    try:
        path = fetch_log(root / CACHE_DIR, url, timeout_s)
        return LogSource("download", path, verified=True, skipped=tuple(skipped))
    except IncidentLogError as error:
        logger.warning("Incident log download failed: %s", error)
        skipped.append(f"download failed: {error}")
    return LogSource("synthetic", None, verified=False, skipped=tuple(skipped))
