"""servicekit.fdlimit: a server's descriptor soft limit goes up to the hard limit (in a child process: the test
runner's own limit is left alone)."""

import subprocess
import sys

SCRIPT = """
import resource
from servicekit.fdlimit import raise_fd_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
print(raise_fd_limit() == (hard, hard) if hard != resource.RLIM_INFINITY else raise_fd_limit()[0] >= 1 << 20)
"""


def test_raise_fd_limit_lifts_the_soft_limit_to_the_hard_one() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "True", out.stderr

