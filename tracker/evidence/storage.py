"""Where evidence bytes live. The local directory is the default; an S3-compatible store can be
added as another `Storage` without touching views or services (they only call this interface)."""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from flask import current_app

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class Storage(Protocol):
    def exists(self, key: str) -> bool: ...
    def put_file(self, key: str, source: Path) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def path_for_sending(self, key: str) -> Path: ...
    def keys_placed_before(self, moment: float) -> Iterator[str]: ...


def key_for(sha256: str) -> str:
    """Content-addressed key: the same bytes are stored once, under a name nobody chose."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class LocalStorage:
    """Files under a directory (a shared mount works for several hosts: there is no per-process state)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the upload directory")
        return path

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def put_file(self, key: str, source: Path) -> None:
        """Move a finished temporary file into place atomically (never a half-written file)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        os.chmod(target, 0o440)  # evidence is immutable

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def path_for_sending(self, key: str) -> Path:
        return self._path(key)

    def keys_placed_before(self, moment: float) -> Iterator[str]:
        """Keys of the files placed before `moment` (a Unix time), temporary uploads left out."""
        for path in self.root.glob("??/??/*"):
            if path.is_file() and path.stat().st_mtime < moment:
                yield path.relative_to(self.root).as_posix()

    def temp_dir(self) -> Path:
        path = self.root / ".incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path


def storage() -> LocalStorage:
    return LocalStorage(current_app.config["UPLOAD_DIR"])


class TooLarge(Exception):
    pass


def spool(stream: BinaryIO, limit: int) -> tuple[Path, str, int]:
    """Copy an upload to a temporary file next to the storage, hashing as it goes.

    Returns (path, sha256, size); raises TooLarge past `limit` bytes (the partial file is removed).
    Any OSError (disk full, I/O error) also removes the partial file and propagates."""
    temp_dir = storage().temp_dir()
    digest = hashlib.sha256()
    size = 0
    handle, name = tempfile.mkstemp(dir=temp_dir, prefix="up-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


def file_sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
