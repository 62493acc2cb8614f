"""`run_loop` (how `python -m realtime_gateway` runs) lifts the descriptor soft limit before the app serves: one
descriptor per socket (in a child process: the test runner's own limit is left alone)."""

import subprocess
import sys


def test_the_gateway_raises_its_descriptor_limit_before_it_serves() -> None:
    script = """
import resource, asyncio
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from realtime_gateway.__main__ import run_loop
from servicekit import gctune
gctune.leave_alone()
seen = []
async def main():
    seen.append(resource.getrlimit(resource.RLIMIT_NOFILE))
run_loop(main(), "asyncio", 0)
print(seen[0][0] == seen[0][1] or seen[0][0] >= 1 << 20)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True", out.stderr
