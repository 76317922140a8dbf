"""The bytes of a beneficiaries file: SHA-256, what the optimistic pass may trust, encoding.

`scan_bytes` reads the file once in chunks (a few in memory at most), before any row is read: a line
too long to be a beneficiaries line is refused before a reader holds it whole. Beside Polars (which
keeps both cores busy) it would save no time.
"""

from __future__ import annotations

import codecs
import hashlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..csvformat import SNIFF_BYTES

# No beneficiaries line comes near this many bytes: a file with such a line is not a beneficiaries
# file, and reading that line whole would cost memory in proportion to the garbage.
MAX_LINE_BYTES = 1 << 20
CHUNK_SIZE = 4 * MAX_LINE_BYTES  # a whole number of line windows (see `_newline_free_window`)
# Bytes the optimistic pass does not handle: quotes, `+`, whitespace to trim.
_UNUSUAL_BYTES = (b'"', b"+", b" ", b"\t", b"\x0b", b"\x0c")


@dataclass(frozen=True)
class ByteFacts:
    """One pass over the bytes: the SHA-256; whether the data (after the first line) hold bytes the
    optimistic pass does not handle (quotes, `+`, whitespace to trim, non-ASCII text); the physical
    line number of a line of MAX_LINE_BYTES or more, if any (one of twice as many is always found)."""

    size: int
    sha256: str
    has_quotes: bool
    unusual: bool
    long_line: int | None = None


def _newline_free_window(chunk: bytes, offset: int, window: int) -> int | None:
    """The file offset of the first `window`-aligned window of `window` bytes, within `chunk` (read at
    `offset`, a multiple of `window`), that holds no line break; a line there is at least `window`
    bytes long. One `find` per window: next to nothing, as lines are short."""
    for start in range(0, len(chunk) - window + 1, window):
        if chunk.find(b"\n", start, start + window) == -1:
            return offset + start
    return None


def _line_at(path: Path, offset: int) -> int:
    """The physical line number of the byte at `offset`."""
    lines = 1
    with open(path, "rb") as handle:
        while offset > 0 and (chunk := handle.read(min(CHUNK_SIZE, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def scan_bytes(path: Path, *, progress: Callable[[float, str], None] | None = None) -> ByteFacts:
    """Reads the file once: SHA-256 and the facts above. The hash runs in a second thread fed with the
    chunks (hashlib releases the GIL) while this one checks them."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)

    def hash_chunks() -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    hasher = threading.Thread(target=hash_chunks, name="beneficiaries-sha256", daemon=True)
    hasher.start()
    has_quotes = unusual = False
    long_line_at = None
    done = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                chunks.put(chunk)
                if long_line_at is None:
                    long_line_at = _newline_free_window(chunk, done, MAX_LINE_BYTES)
                data = chunk[chunk.find(b"\n") + 1 :] if done == 0 else chunk
                done += len(chunk)
                has_quotes = has_quotes or b'"' in data
                unusual = unusual or not data.isascii() or any(byte in data for byte in _UNUSUAL_BYTES)
                if progress:
                    progress(done / size, "empreinte SHA-256")
    finally:
        chunks.put(None)
        hasher.join()
    long_line = None if long_line_at is None else _line_at(path, long_line_at)
    return ByteFacts(size, digest.hexdigest(), has_quotes, unusual, long_line)


def header_encoding(path: Path) -> str:
    """UTF-8 unless the first bytes are not; invalid UTF-8 further on is caught by the reader."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)  # a sequence cut by the sniff is not an error
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def transcode_to_utf8(source: Path, target: Path, *, progress=None) -> None:
    """Windows-1252 → UTF-8, chunk by chunk (same lines, so line numbers are kept)."""
    size = source.stat().st_size or 1
    decoder = codecs.getincrementaldecoder("cp1252")(errors="replace")
    done = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK_SIZE):
            writer.write(decoder.decode(chunk).encode("utf-8"))
            done += len(chunk)
            if progress:
                progress(done / size, "conversion Windows-1252 → UTF-8")
        writer.write(decoder.decode(b"", final=True).encode("utf-8"))
