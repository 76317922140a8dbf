"""Publishing a validated file's Parquet: an atomic rename into place, never a rewrite."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

CHUNK_SIZE = 4 << 20


def publish(written: Path, output: Path) -> None:
    """Moves the written Parquet to `output` atomically; content-addressed files are never rewritten."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        return
    temporary = output.with_name(f".{output.name}.{uuid.uuid4().hex}.tmp")
    try:
        os.replace(written, temporary)
    except OSError:  # another file system
        _copy(written, temporary)
    os.replace(temporary, output)


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK_SIZE):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
