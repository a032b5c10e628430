"""Progress of a ``python -m bench run`` case on stderr: a tqdm bar, or lines in a log."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Chunks done, fits/s and ETA on stderr: a tqdm bar on a terminal, else plain lines.

    Not on a terminal (a log file), a line every 10 s and one at the end, each with
    ``chunks`` in it.
    """

    def __init__(self, total: int, label: str, bar: bool):
        from tqdm import tqdm

        self.label, self.last_line = label, 0.0
        self.bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr,
                        leave=True, dynamic_ncols=True) if bar else None

    def compiling(self) -> None:
        """Say that XLA compiles the case's program (it can take a while at large sizes)."""
        if self.bar is not None:
            self.bar.write(f"{self.label}: compiling", file=sys.stderr)
        else:
            print(f"{self.label}: compiling", file=sys.stderr, flush=True)

    def update(self, done: int, total: int, rate: float | None, elapsed: float) -> None:
        """After ``done`` of ``total`` chunks: ``rate`` fits/s so far, ``elapsed`` seconds."""
        if self.bar is not None:
            self.bar.total = total
            self.bar.set_postfix_str(f"{rate:,.0f} fits/s" if rate else "-- fits/s",
                                     refresh=False)
            self.bar.update(done - self.bar.n)
            if done == total:
                self.bar.close()
            return
        if done == total or time.perf_counter() - self.last_line > 10:
            self.last_line = time.perf_counter()
            eta = elapsed / done * (total - done) if done else float("nan")
            speed = f"{rate:,.0f} fits/s" if rate else "-- fits/s"
            print(f"{self.label}: {done}/{total} chunks, {speed}, {_clock(elapsed)} elapsed, "
                  f"ETA {_clock(eta)}", file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
