"""Progress of a validation: one 0..1 fraction over its phases, followed through the bytes Polars reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]


class Progress:
    """Maps the phases of a validation onto one 0..1 fraction, throttled."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.5):
        self.callback = callback
        self.interval = interval
        self.last = 0.0
        self.highest = 0.0  # a second pass never moves the bar back

    def __call__(self, fraction: float, label: str, *, force: bool = False) -> None:
        if self.callback is None:
            return
        self.highest = max(self.highest, min(1.0, fraction))
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            self.callback(self.highest, label)

    def part(self, start: float, end: float) -> ProgressPart:
        return ProgressPart(self, start, end)


class ProgressPart:
    """The share [start, end] of a `Progress` given to one phase (which may share it out again)."""

    def __init__(self, whole: Progress, start: float, end: float):
        self.whole, self.start, self.end = whole, start, end

    def __call__(self, fraction: float, label: str) -> None:
        self.whole(self.start + (self.end - self.start) * fraction, label)

    def part(self, start: float, end: float) -> ProgressPart:
        span = self.end - self.start
        return ProgressPart(self.whole, self.start + span * start, self.start + span * end)


def _bytes_read_by_process() -> int | None:
    """Bytes this process has read so far (Linux), to follow Polars' progress through the file."""
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_with_progress(work: Callable[[], object], *, expected_bytes: int, report: ProgressCallback, label: str):
    """Runs `work` (a Polars query, which releases the GIL) in a thread; the calling thread reports
    progress from the bytes read meanwhile, so callbacks (database writes) stay on the caller's thread."""
    result: dict = {}

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    start = _bytes_read_by_process()
    worker = threading.Thread(target=target, name="beneficiaries-validation", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.25)
        now = _bytes_read_by_process()
        if start is not None and now is not None and expected_bytes:
            # The reader runs ahead of the work: never show more than 95 % before the end.
            report(min(0.95, (now - start) / expected_bytes), label)
    if "error" in result:
        raise result["error"]
    report(1.0, label)
    return result.get("value")
