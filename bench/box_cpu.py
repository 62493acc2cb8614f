"""The rest of the box, measured per process from /proc: which process listens on a TCP port (the RabbitMQ node's
beam.smp, the PostgreSQL postmaster the bench talks to), the postmaster's children, and the CPU seconds of a set of
processes between two samples (all threads: `/proc/PID/task/*/schedstat`, which counts a scheduler's busy-wait too).

Linux only; reading other users' /proc entries (beam.smp runs as rabbitmq, PostgreSQL as postgres) needs root or
the same user: what cannot be read counts as absent (None), never as zero.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _schedstat_seconds(pid: int, field: int) -> float | None:
    """One field of `/proc/PID/task/*/schedstat` summed over every thread, in seconds (0: time on a CPU, 1: time
    runnable in the run queue), or None if it is gone or unreadable."""
    try:
        return sum(int((t / "schedstat").read_text().split()[field]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds of every thread of `pid` so far, or None if it is gone or unreadable."""
    seconds = _schedstat_seconds(pid, 0)
    if seconds is None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, ValueError, IndexError):
            return None
    return seconds


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXADDR:HEXPORT; state 0A is LISTEN; field 9 is the socket's inode
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listener_pid(port: int) -> int | None:
    """The process that listens on TCP `port` on this machine (None: nobody, or not visible to this user)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(proc.name)
        except OSError:
            continue
    return None


def children(pid: int) -> list[int]:
    """The direct children of `pid` (a postmaster's: its background processes and every backend)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(proc.name))
    return found


def runqueue_wait_seconds(pid: int) -> float | None:
    """Seconds every thread of `pid` has spent runnable but waiting for a CPU, or None."""
    return _schedstat_seconds(pid, 1)


class CpuSample:
    """CPU seconds of a set of processes at one moment; `since(earlier)` is what they used in between. A process
    present only now counts from zero (it started in between); one gone since is lost (its last use unread).
    `waited_since(earlier)`: their seconds in the run queue in between (ready to run, no CPU free): on a full box
    what a request waits between its steps."""

    def __init__(self, pids: list[int]) -> None:
        self.seconds = {pid: s for pid in pids if (s := cpu_seconds(pid)) is not None}
        self.waits = {pid: w for pid in pids if (w := runqueue_wait_seconds(pid)) is not None}

    def since(self, earlier: CpuSample) -> float:
        return sum(s - earlier.seconds.get(pid, 0.0) for pid, s in self.seconds.items())

    def waited_since(self, earlier: CpuSample) -> float:
        return sum(w - earlier.waits.get(pid, 0.0) for pid, w in self.waits.items())
