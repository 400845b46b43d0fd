"""Run a command the way a person does: in a pseudo-terminal.

Piped output hides what only a terminal triggers (rich's live display, colour, isatty branches,
Ctrl-C reaching the whole foreground process group). `Terminal` forks the command onto a fresh pty
(`pty.fork`: its own session, the pty as its controlling terminal, a fixed window size), reads what it
writes, can type Ctrl-C (the byte, so the line discipline turns it into SIGINT for the foreground
group, children included), and returns the exit code.

`screen` is everything written so far with the terminal's escape sequences removed: enough to assert
what a person would read, without emulating cursor movement.
"""

from __future__ import annotations

from tests.support import ROOT
import errno
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

# CSI sequences (colours, cursor moves, erase), OSC sequences (titles, hyperlinks), lone ESC pairs.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def plain(text: str) -> str:
    """Terminal output without escape sequences and carriage returns."""
    return _ESCAPES.sub("", text).replace("\r", "")


def cli_argv(*args: str) -> list[str]:
    """`x402-index ARGS` as a person runs it: the installed console script beside this Python."""
    script = Path(sys.executable).parent / "x402-index"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "index.cli.app", *args]


class Terminal:
    """One command on a pty of `cols`×`rows`. Use as a context manager (kills it on exit if alive)."""

    def __init__(self, argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                 cols: int = 120, rows: int = 40) -> None:
        base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "X402_INDEX_DB", "NO_COLOR")}
        base.update({"TERM": "xterm-256color", "PYTHONUNBUFFERED": "1",
                     "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
        base.update(env or {})
        self.argv = argv
        self._raw = b""
        self.code: int | None = None
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (nothing else is safe after fork in a threaded process)
            try:
                if cwd is not None:
                    os.chdir(cwd)
                # a shell starts what is typed with Ctrl-C and Ctrl-\ at their defaults; a test run
                # launched in the background (`make test &`) has them ignored, and an ignored signal
                # stays ignored across exec: the demo would never see Ctrl-C
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGQUIT, signal.SIG_DFL)
                os.execvpe(argv[0], argv, base)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    # -- reading -------------------------------------------------------------------------------
    def _read(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError as exc:  # EIO: the child closed its side (it exited)
            if exc.errno == errno.EIO:
                return False
            raise
        if not chunk:
            return False
        self._raw += chunk
        return True

    @property
    def raw(self) -> str:
        """Everything written so far, escape sequences included."""
        return self._raw.decode("utf-8", "replace")

    @property
    def screen(self) -> str:
        return plain(self._raw.decode("utf-8", "replace"))

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Wait until `pattern` (a regex) is on the screen; AssertionError with the screen if not."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.screen)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                found = regex.search(self.screen)
                if found:
                    return found
                raise AssertionError(f"{pattern!r} not on the screen of {' '.join(self.argv)} "
                                     f"(exit {self.poll()}):\n{self.screen}")

    # -- typing and ending ---------------------------------------------------------------------
    def ctrl_c(self) -> None:
        """Type Ctrl-C (the terminal sends SIGINT to its foreground process group)."""
        os.write(self.fd, b"\x03")

    def poll(self) -> int | None:
        if self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, timeout: float = 60.0) -> int:
        """Read until the command exits (and its output is drained); its exit code (-N: signal N)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{' '.join(self.argv)} still running after {timeout}s:\n{self.screen}")
            self._read(0.1)
        while self._read(0.05):  # what it wrote just before exiting
            if not select.select([self.fd], [], [], 0)[0]:
                break
        assert self.code is not None
        return self.code

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.code = -9

    def close(self) -> None:
        self.kill()
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_in_terminal(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                    timeout: float = 60.0, cols: int = 120, raw: bool = False) -> tuple[int, str]:
    """`x402-index ARGS` on a pty until it exits: (exit code, screen), or its raw output with `raw`."""
    with Terminal(cli_argv(*args), cwd=cwd, env=env, cols=cols) as term:
        code = term.wait(timeout)
        return code, term.raw if raw else term.screen
