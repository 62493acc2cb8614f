"""Cell 5 (disconnect storm) in instructions instead of CPU seconds: repeatable where seconds are not.

On a shared 2-core VM the same storm costs 0.22-0.43 s of CPU from one run to the next, which hides a 10% change;
instruction counts of the same code spread ~10% (how the drops arrive shapes the event loop's batches), so compare
medians of a few storms, interleaved.
This runs the Python gateway under valgrind's callgrind with instrumentation off, switches it on just before the
load generator drops its 2,000 sockets and off once the server counts none, and prints the instructions the
gateway executed in between (user space only; the kernel's share is not counted). Valgrind slows the server ~30x,
so a storm takes ~30 s here. `--gateway-src` as in `run.py`, repeatable: the storms alternate between the sources
(`.` is the installed gateway):

    .venv/bin/python bench/storm_instructions.py --storms 3
    .venv/bin/python bench/storm_instructions.py --storms 4 --gateway-src /tmp/old/services/realtime-gateway/src \
        --gateway-src .

Needs valgrind (Debian: `apt-get install -y valgrind`), Node (bench/node installed by `./bench/run`) and RabbitMQ.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench


def callgrind_python(out_dir: Path) -> str:
    """A python wrapper that starts under callgrind with instrumentation off (cheap until switched on)."""
    wrapper = out_dir / "python-under-callgrind"
    wrapper.write_text(
        "#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
        f"--callgrind-out-file={out_dir}/callgrind.%p {sys.executable} \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return str(wrapper)


def instructions(out_dir: Path, pid: int) -> int:
    """Instructions in the dump of `pid` (the largest 'summary'/'totals' line of its files)."""
    total = 0
    for path in glob.glob(f"{out_dir}/callgrind.{pid}*"):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
    return total


def _callgrind(pid: int, action: str) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def storm(ctx: bench.Context, out_dir: Path, n: int) -> int:
    with bench.pair("python", ctx) as (server, gen):
        gen.connect(server, n)
        time.sleep(1)
        pid = server.proc.pid  # taskset and the wrapper exec: this is valgrind's process
        _callgrind(pid, "--instr=on")
        gen.call("drop")
        deadline = time.time() + 120
        while server.sockets() > 0 and time.time() < deadline:
            time.sleep(1)  # each poll is an HTTP request the count includes: few of them
        _callgrind(pid, "--instr=off")
        _callgrind(pid, "--dump")
    return instructions(out_dir, pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storms", type=int, default=3)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--gateway-src", action="append", help="import realtime_gateway from this directory (as "
                        "run.py's; `.`: the installed one); repeat it to alternate between gateways")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (Debian: apt-get install -y valgrind)")
    vhost = f"bench-storm-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="bench-storm-") as tmp, \
            open(Path(tempfile.gettempdir()) / f"{vhost}.log", "w") as log:
        out_dir = Path(tmp)
        bench.PYTHON = callgrind_python(out_dir)
        ctx = bench.Context(out_dir, bench.ensure_vhost(vhost), log)
        sources = args.gateway_src or ["."]
        counts: dict[str, list[int]] = {source: [] for source in sources}
        try:
            for i in range(args.storms):
                for source in sources:
                    ctx.gateway_src = None if source == "." else source
                    counts[source].append(storm(ctx, out_dir, args.sockets))
                    print(f"storm {i + 1} ({source}): {counts[source][-1] / 1e6:.1f} M instructions", flush=True)
        finally:
            bench.drop_vhost(vhost)
    for source, values in counts.items():
        median = statistics.median(values)
        print(f"{source}: median {median / 1e6:.1f} M instructions per storm of {args.sockets} sockets "
              f"({median / args.sockets / 1e3:.0f} k per socket); all: {sorted(round(v / 1e6) for v in values)}")


if __name__ == "__main__":
    main()
