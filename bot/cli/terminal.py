"""What the terminal gets: colour only where a person reads (a TTY, NO_COLOR unset, or
FORCE_COLOR / --color always), and a progress display on stderr for reviews that take a while,
so stdout stays exactly the report whatever the format."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when a display is shown: a quick review never pays for it
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

PROGRESS_DELAY = 2.0  # seconds before the progress display appears: quick reviews never flash one


def wants_colour(choice: str, stream: IO[str], environ: Mapping[str, str]) -> bool:
    """`--color auto|always|never`. auto: NO_COLOR (set and not empty) wins, then FORCE_COLOR (set
    and not empty or "0"), then whether `stream` is a terminal that is not TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return _is_tty(stream) and environ.get("TERM") != "dumb"


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream is no terminal
        return False


class Progress:
    """A spinner, the files worked on and the current file, on stderr; shown only after
    PROGRESS_DELAY seconds and only when stderr is a terminal. `step(path)` is the engine's
    progress callback; it is cheap when nothing is shown."""

    def __init__(self, stream: IO[str], enabled: bool, delay: float = PROGRESS_DELAY) -> None:
        self._stream = stream
        self._enabled = enabled and _is_tty(stream)
        self._delay = delay
        self._lock = threading.Lock()
        self._count = 0
        self._seen: set[str] = set()
        self._path = ""
        self._display: RichProgress | None = None
        self._task: TaskID | None = None
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        if self._enabled:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        with self._lock:
            if self._display is not None or not self._enabled:
                return
            console = Console(file=self._stream, highlight=False, markup=False)
            display = RichProgress(SpinnerColumn(), TextColumn("reviewing"), BarColumn(),
                                   TextColumn("{task.fields[count]} file(s)"), TimeElapsedColumn(),
                                   TextColumn("{task.fields[path]}"), console=console, transient=True,
                                   redirect_stdout=False, redirect_stderr=False)  # stdout is the report's alone
            self._task = display.add_task("review", total=None, count=self._count, path=self._path)
            self._display = display
            display.start()

    def step(self, path: str) -> None:
        with self._lock:
            self._seen.add(path)  # a file is parsed, then its rules run: counted once
            self._count = len(self._seen)
            self._path = _short(path)
            display, task = self._display, self._task
        if display is not None and task is not None:
            display.update(task, count=self._count, path=self._path)

    def stop(self) -> None:
        with self._lock:
            self._enabled = False
            if self._timer is not None:
                self._timer.cancel()
            display, self._display = self._display, None
        if display is not None:
            display.stop()

    @property
    def shown(self) -> bool:
        return self._display is not None


def _short(path: str, width: int = 50) -> str:
    from bot.report.plain import shown_path

    path = shown_path(path)
    return path if len(path) <= width else "..." + path[-(width - 3):]


@contextmanager
def progress(stream: IO[str], enabled: bool = True, delay: float = PROGRESS_DELAY) -> Iterator[Callable[[str], None]]:
    """The engine's progress callback, with the display torn down however the review ends."""
    shown = Progress(stream, enabled, delay)
    shown.start()
    try:
        yield shown.step
    finally:
        shown.stop()
