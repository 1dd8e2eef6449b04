"""Where the shipped artefacts and the user's store live.

The declarative artefacts sit beside this package both in a source checkout (top-level folders)
and once installed (folders of the `wsiskg` namespace), so one rule finds them.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
ONTOLOGY_DIR = ROOT / "ontology"
SHAPES_DIR = ROOT / "shapes"
QUERIES_DIR = ROOT / "queries"
REFERENCE_DIR = PACKAGE_DIR / "reference"
ENTRIES_DIR = PACKAGE_DIR / "entries"
SOURCES_DIR = PACKAGE_DIR / "sources"  # the source documents statements cite


def data_home() -> Path:
    """The per-user data folder (XDG), overridable with WSISKG_HOME."""
    if os.environ.get("WSISKG_HOME"):
        return Path(os.environ["WSISKG_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "wsiskg"


def default_store_path() -> Path:
    return data_home() / "store"


def user_entries_dir(store_path: Path) -> Path:
    """Entries written by `ingest` live beside the store, so a rebuild keeps them."""
    return Path(store_path) / "entries"


class FileProblem(ValueError):
    """A user's file cannot be read, or is larger than its kind may be; the message names the file."""


def read_user_file(path: Path | str, max_bytes: int, what: str = "file") -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileProblem(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise FileProblem(f"{path}: {len(data)} bytes; a {what} is at most {max_bytes} bytes")
    return utf16_as_utf8(data, f"{path}: the {what}")


def utf16_as_utf8(data: bytes, where: str) -> bytes:
    """UTF-16 text (Windows' "Unicode" save: a byte-order mark, or a zero byte beside every ASCII
    character) re-encoded as UTF-8, which every reader here expects; other bytes as they are.
    Without this, its zero bytes got it called a binary file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # the mark says which byte order, and is dropped
    else:
        head = data[:512]
        if len(head) < 4 or len(head) % 2:
            return data
        even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
        if odd >= 0.8 and even <= 0.05:  # mostly Latin text: the high bytes are zero, and only they
            encoding = "utf-16-le"
        elif even >= 0.8 and odd <= 0.05:
            encoding = "utf-16-be"
        else:
            return data
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(f"{where} looks like UTF-16 text but does not decode (byte {exc.start}); "
                          "save it as UTF-8") from None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, before_rename: Callable[[], None] | None = None) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`: all or nothing.

    `before_rename` runs once the data is safely on disk and before it takes the name (for example
    the store write the file must follow); if it fails, `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
