"""servicekit.gctune: run in a child process, because the collector's settings belong to the whole process."""

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_first_call_freezes_startup_and_raises_only_the_young_threshold() -> None:
    assert _run("""
        import gc
        from servicekit.gctune import tune_gc
        before = gc.get_threshold()
        first = tune_gc(20_000)
        frozen = gc.get_freeze_count()
        second = tune_gc(30_000)
        print(first, second, frozen > 1000, gc.get_threshold() == (20_000, *before[1:]))
    """) == "True False True True"


def test_zero_and_leave_alone_keep_pythons_collector() -> None:
    assert _run("""
        import gc
        from servicekit.gctune import leave_alone, tune_gc
        before = gc.get_threshold()
        zero = tune_gc(0)
        leave_alone()
        later = tune_gc(50_000)
        print(zero, later, gc.get_freeze_count(), gc.get_threshold() == before)
    """) == "False False 0 True"


def test_the_test_runner_leaves_the_collector_alone() -> None:
    from servicekit.gctune import tune_gc

    assert tune_gc(50_000) is False  # the pytest plugin called leave_alone()
