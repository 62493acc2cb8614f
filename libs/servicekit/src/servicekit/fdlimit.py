"""The process's file-descriptor limit, raised for a server that holds one descriptor per client.

Every socket is a descriptor; a process may hold at most its RLIMIT_NOFILE soft limit of them (often 1,024 by
default, where the hard limit is much higher: 20,000 in the bench's container, 524,288 on many distributions).
Past it, `accept()` fails with EMFILE and new clients are refused while the process still has CPU and memory to
spare. ``raise_fd_limit`` lifts the soft limit to the hard one, which any process may do; raising the hard limit
itself needs privileges (systemd's ``LimitNOFILE=``, docker's ``--ulimit nofile=``, Kubernetes' runtime defaults):
see the README's "Benchmark" section (cell 10) and docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


def raise_fd_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (an unlimited hard limit: to 1,048,576); (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # a sandbox may refuse even this
            log.warning("could not raise the file-descriptor limit from %d to %d: %s", soft, target, exc)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    log.debug("file descriptors: soft limit %d, hard limit %d", soft, hard)
    return soft, hard
