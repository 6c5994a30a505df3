"""Processes that die with the process that started them.

Linux's `PR_SET_PDEATHSIG` has the kernel kill a process when its parent dies, so a parent killed
with SIGKILL (a review past its deadline, a worker stopped by its supervisor) leaves nothing
burning CPU: the App's engine process uses it, and so do the parse workers it starts
(`bot.engine.parse_pool`), so a killed engine takes its workers along.
"""

from __future__ import annotations

import ctypes
import os
import signal

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit at once when the parent
    (`parent`, else the one it has now) has already died. Elsewhere than Linux this does nothing:
    the pipe's end still stops the process at its next question.

    The kernel watches the parent *thread* that forked this process: start such processes from a
    thread that lives as long as they should (the engine forks its workers from the review's own)."""
    expected = os.getppid() if parent is None else parent
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != expected:  # the parent died before the request took effect
        os._exit(1)
