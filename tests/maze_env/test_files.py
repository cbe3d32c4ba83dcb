"""maze_env.files: the one atomic write (whole file or none, the umask's permissions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maze_env.files import atomic_path, atomic_write_bytes, atomic_write_text


def test_writes_whole_files_with_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "sub" / "a.txt", "hello")
        assert p.read_text() == "hello" and (p.stat().st_mode & 0o777) == 0o644
        os.umask(0o077)
        q = atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
        assert q.read_bytes() == b"\x00\x01" and (q.stat().st_mode & 0o777) == 0o600
    finally:
        os.umask(old)


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    dest = atomic_write_text(tmp_path / "keep.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_the_temporary_keeps_the_suffix_writers_pick_formats_by(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "fig.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        tmp.write_bytes(b"png")
    assert (tmp_path / "fig.png").read_bytes() == b"png"
