"""Grading math answers with math-verify, under a time limit that holds in any thread or process.

math-verify bounds its own work with `signal.alarm`, which raises ValueError off the main thread,
and a signal handler only runs between bytecodes, so it cannot cut short one long C-level step
(a huge integer power, say). So its timeouts are switched off (`parsing_timeout=None`,
`timeout_seconds=None`) and every check runs in a helper subprocess that is killed on overrun.
The helper is a plain `subprocess`, not `multiprocessing`, because daemonic `multiprocessing.Pool`
workers may not start multiprocessing children.

Cost: an exact string match (most correct answers: AIME, AMC and DAPO answers are integers) is
decided in-process for free. Anything else goes to the helper: the first such call in a process
starts it (about 1 s, mostly importing math-verify and sympy; not charged to any answer's limit),
later calls add a pipe round trip (well under 1 ms) to math-verify's own work (typically
1-50 ms). Threads of one process share the helper, one check at a time. A timeout costs the
limit itself, and the next call starts a new helper.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import selfdistill

log = logging.getLogger(__name__)

_STARTUP_LIMIT_S = 120.0  # importing math-verify on a busy machine; generous, paid once


def grade(prediction: str | None, truth: str, timeout_s: float = 5.0) -> bool:
    """Whether `prediction` (the content of the last \\boxed{}, or None) is equivalent to `truth`.

    A check that takes longer than `timeout_s` counts as wrong and logs a warning.
    """
    if prediction is None:
        return False
    pred, gold = _bare(prediction), _bare(truth)
    if not pred:
        return False
    if pred == gold:
        return True
    verdict = _HELPER.check(pred, gold, timeout_s)
    if verdict is None:
        log.warning("math-verify gave no verdict within %.1f s on prediction %r (truth %r); "
                    "graded wrong", timeout_s, prediction[:200], truth)
        return False
    return verdict


def _bare(answer: str) -> str:
    return answer.strip().strip("$").strip()


class _Helper:
    """The math-verify subprocess of this process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def check(self, pred: str, gold: str, timeout_s: float) -> bool | None:
        """The helper's verdict, or None when it overran `timeout_s` (or died) and was killed."""
        with self._lock:
            proc = self._running()
            try:
                os.write(proc.stdin.fileno(), (json.dumps([pred, gold]) + "\n").encode())
                reply = _read_line(proc.stdout.fileno(), timeout_s)
            except BrokenPipeError:  # the helper died since the last check
                reply = None
            if reply is None:
                self.stop()
                return None
            return reply == "1"

    def _running(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            # The package's parent directory on PYTHONPATH: the child imports this module
            # even when the parent process found it through a sys.path tweak.
            root = str(Path(selfdistill.__file__).resolve().parents[1])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, bufsize=0, env={**os.environ, "PYTHONPATH": path})
            if _read_line(self._proc.stdout.fileno(), _STARTUP_LIMIT_S) != "ready":
                self.stop()
                raise RuntimeError(f"the math-verify helper ({sys.executable} -m {__name__}) did not start; "
                                   "see its stderr above")
        return self._proc

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def forget(self) -> None:
        """After fork: the helper and the lock's state belong to the parent; start afresh."""
        self._lock = threading.Lock()
        if self._proc is not None:
            # Our copies of its pipes would keep the parent's helper from seeing end of input.
            self._proc.stdin.close()
            self._proc.stdout.close()
            self._proc = None


def _read_line(fd: int, timeout_s: float) -> str | None:
    """One line from `fd`, or None at the deadline or end of file."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        data += chunk
    return data.decode().strip()


_HELPER = _Helper()
atexit.register(_HELPER.stop)
os.register_at_fork(after_in_child=_HELPER.forget)


def _equivalent(pred: str, gold: str) -> bool:
    from math_verify import verify

    return verify(_parse(gold), _parse(pred), timeout_seconds=None)


def _parse(answer: str) -> list:
    from math_verify import parse

    # Boxed is how answers are written; "$...$" rescues forms the boxed extractor only keeps as
    # strings (math-verify 0.9 parses "$50\%$" as 50 but "\boxed{50\%}" as the string "50\%").
    boxed = parse(f"\\boxed{{{answer}}}", parsing_timeout=None)
    if any(not isinstance(x, str) for x in boxed):
        return boxed
    return parse(f"${answer}$", parsing_timeout=None) or boxed


def _serve() -> None:
    """Helper loop: read `[prediction, truth]` JSON lines, answer "1" or "0" per line."""
    import math_verify  # noqa: F401  (imported before "ready" so startup is not charged to a check)

    # Its "timeout is disabled" notice is expected: the parent enforces the limit.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    replies, sys.stdout = sys.stdout, sys.stderr  # a stray print must not corrupt the protocol
    print("ready", file=replies, flush=True)
    for line in sys.stdin:
        try:
            ok = _equivalent(*json.loads(line))
        except Exception:  # unparsable or unsupported input: not equivalent, as math-verify does
            ok = False
        print("1" if ok else "0", file=replies, flush=True)


if __name__ == "__main__":
    _serve()
