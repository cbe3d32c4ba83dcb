"""Atomic file writes: the one home for "write beside, then rename into place".

A reader (or a crash) never sees half a file: every writer puts its bytes in a temporary file in
the destination's folder, flushes it, and ``os.replace``-s it over the destination, which POSIX
and Windows both do atomically within one file system (no fsync: this guards against a killed
process, not a power cut, and keeps the many small writes of a run cheap). The file gets the permissions a plain
``open(path, "w")`` would give under the current umask (``tempfile.mkstemp`` alone makes 0600).

- :func:`atomic_write_bytes` / :func:`atomic_write_text` for data already in memory;
- :func:`atomic_path` for writers that want a path (``torch.save``, ``model.save``, ``fig.savefig``,
  Pillow, ``np.savez``): ``with atomic_path(dest) as tmp: writer(tmp)``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``path``; on a clean exit it replaces ``path``, else it is removed.

    Args:
        path: the destination file. Its folder is created if missing.
        suffix: the temporary file's suffix (default: the destination's own, so writers that pick
            a format by extension, such as matplotlib or Pillow, still pick the right one).

    Yields:
        The temporary file's path (an empty file exists there already; writers overwrite it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns ``Path(path)``."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``Path(path)``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def read_json_object(path: str | os.PathLike[str], hint: str = "") -> dict:
    """The JSON object in ``path``; a ``ValueError`` naming the file when it is not valid JSON
    (or not UTF-8) or not an object. ``hint`` (e.g. ``"; use a new --out folder"``) is appended
    to the message."""
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err}){hint}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got a {type(data).__name__}{hint}")
    return data
