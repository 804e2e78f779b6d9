"""Give each GPU job on a node GPUs of its own.

Snakemake's local scheduler counts GPUs (`--resources gpu=8` and a rule's `gpu=N`) but does
not say which ones a job may use, so every job would land on GPU 0. A job started as

    python -m selfdistill.training.gpus N -- COMMAND ...

claims N free device ids with file locks, sets CUDA_VISIBLE_DEVICES to them and then becomes
COMMAND (exec). The locks belong to the job's own process, so they last exactly as long as the
job, however it ends. The ids claimable are those in CUDA_VISIBLE_DEVICES when it is set (a node
shared with other users), else every GPU nvidia-smi lists. Under SLURM, which gives each job its
own allocation and sets CUDA_VISIBLE_DEVICES for it, COMMAND runs unchanged.

Locks live in $SELFDISTILL_GPU_LOCK_DIR, by default a per-user folder in the temp directory,
so jobs of every workflow the user runs on the node share them.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOCK_DIR_ENV = "SELFDISTILL_GPU_LOCK_DIR"
Claim = list[tuple[str, int]]  # (device id, descriptor of its open, locked file)


class GPUError(RuntimeError):
    pass


def devices() -> list[str]:
    """Device ids jobs here may claim."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip()]
    try:
        listed = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [line.strip() for line in listed.splitlines() if line.strip()]


def lock_dir() -> Path:
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / f"selfdistill-gpus-{os.getuid()}")


def claim(n: int, ids: list[str], directory: Path, poll_s: float = 1.0) -> Claim:
    """Locks n of `ids`, waiting while other jobs hold too many of them. A lock lasts while its
    descriptor is open in this process, or in a process that inherited it."""
    if n < 1:
        raise GPUError(f"{n} GPUs asked for; a GPU job needs at least 1")
    if n > len(ids):
        raise GPUError(f"{n} GPUs asked for, but only {len(ids)} exist here ({', '.join(ids) or 'none'}); "
                       "lower the job's gpu resource (compute.<group>.gpus) or run it where more GPUs are")
    directory.mkdir(parents=True, exist_ok=True)
    announced = False
    while True:
        held = []
        for device in ids:
            fd = os.open(directory / f"gpu-{re.sub(r'[^A-Za-z0-9._-]', '_', device)}.lock", os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held.append((device, fd))
            if len(held) == n:
                return held
        # all or nothing: two jobs each holding part of what they need would wait forever
        release(held)
        if not announced:
            print(f"waiting for {n} of GPUs {', '.join(ids)}; other jobs hold the rest "
                  f"(is Snakemake's --resources gpu above the {len(ids)} here?)", file=sys.stderr, flush=True)
            announced = True
        time.sleep(poll_s)


def release(held: Claim) -> None:
    for _, fd in held:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Run COMMAND on N GPUs no other job on this node holds.")
    ap.add_argument("gpus", type=int, metavar="N")
    ap.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    args = ap.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("no COMMAND after --")
    if not ("SLURM_JOB_ID" in os.environ and "CUDA_VISIBLE_DEVICES" in os.environ):
        try:
            held = claim(args.gpus, devices(), lock_dir())
        except GPUError as e:
            sys.exit(f"selfdistill.training.gpus: {e}")
        for _, fd in held:
            os.set_inheritable(fd, True)  # so the locks pass to COMMAND through exec
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(device for device, _ in held)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
