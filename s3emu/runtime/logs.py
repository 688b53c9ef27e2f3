"""Where the command's log lines go: stderr, as text or as JSON lines (every
line, server messages and access log alike), through the standard logging
machinery. Python callers (s3emu.serve, the pytest plugin) keep their own."""
from __future__ import annotations

import logging
import select
import sys
from typing import Any, Iterator

from aiohttp.http_exceptions import HttpProcessingError
from pythonjsonlogger.json import JsonFormatter

from ..ops import accesslog
from ..ops.recent import at_turn_end
from ..protocol.dates import iso8601

# the most bytes a write to a pipe puts in one piece (POSIX's PIPE_BUF; 512 is its minimum)
ATOMIC_PIPE_WRITE = getattr(select, "PIPE_BUF", 512)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLERS: list[logging.Handler] = []  # ours, replaced on reconfiguration


class JsonLines(JsonFormatter):
    """{"time", "level", "logger", "message", ...extra fields}; tracebacks in "exc_info"."""

    def __init__(self) -> None:
        super().__init__(["asctime", "levelname", "name", "message"], json_ensure_ascii=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        if "summary" in log_data:  # an access record: its fields say it all, the message just names it
            log_data["message"] = log_data.pop("summary")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return iso8601(record.created, exact=True)


class TurnBatched(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler for the access lines: the lines of one turn of the
    event loop (the requests answered in it) reach the stream together at
    its end, not with a write and flush each; outside a loop, at once.
    Each write holds whole lines and at most PIPE_BUF bytes (unless one line
    is longer): on a pipe shared by `--workers N` processes a
    write then never lands in the middle of another process's line."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.pending.append(self.format(record) + self.terminator)
        except Exception:
            self.handleError(record)
            return
        if len(self.pending) == 1:
            at_turn_end(self.flush)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        with self.lock:  # type: ignore[union-attr]
            try:
                for chunk in _whole_lines_of_at_most(ATOMIC_PIPE_WRITE, lines):
                    self.stream.write(chunk)
                    self.stream.flush()  # one write each: a chunk is only atomic alone
                self.stream.flush()
            except Exception:  # a closed or broken stream: the lines are lost, as a StreamHandler's are
                pass


def _whole_lines_of_at_most(limit: int, lines: list[str]) -> Iterator[str]:
    """`lines` joined into runs of at most `limit` UTF-8 bytes (a longer line alone)."""
    run: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode("utf-8", "backslashreplace"))  # as stderr encodes it, near enough
        if run and size + n > limit:
            yield "".join(run)
            run, size = [], 0
        run.append(line)
        size += n
    if run:
        yield "".join(run)


class MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse (bytes not allowed in a header,
    a broken request line, two Content-Lengths) as an ERROR with a traceback,
    though the fault is the client's and the answer a 400: one warning line
    instead, naming what was wrong."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            problem = " ".join(str(exc.message).split(":")[0].split())
            record.msg, record.args = "%s: answered 400 (%s)", (record.getMessage(), problem)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure(log_format: str, *, debug: bool = False) -> None:
    """Send every log line to stderr in `log_format` ("text" or "json")."""
    root, access = logging.getLogger(), logging.getLogger(accesslog.log.name)
    for handler in _HANDLERS:
        root.removeHandler(handler)
        access.removeHandler(handler)
    _HANDLERS.clear()
    server, lines = logging.StreamHandler(sys.stderr), TurnBatched(sys.stderr)
    formatter: Any = JsonLines() if log_format == "json" else None
    server.setFormatter(formatter or _text_formatter())
    lines.setFormatter(formatter or logging.Formatter("%(message)s"))
    root.addHandler(server)
    access.addHandler(lines)
    access.propagate = False
    _HANDLERS.extend((server, lines))
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    access.setLevel(logging.INFO)
    for noisy in ("asyncio", "aiohttp"):  # their debug chatter is not ours
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    server_log = logging.getLogger("aiohttp.server")
    if not debug and not any(isinstance(f, MalformedRequests) for f in server_log.filters):
        server_log.addFilter(MalformedRequests())
    logging.captureWarnings(True)
    # no format of ours prints a record's thread or process: not looking them up saves a
    # third of the cost of the access line's record
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def _text_formatter() -> logging.Formatter:
    formatter = logging.Formatter(TEXT_FORMAT)
    formatter.formatTime = lambda record, datefmt=None: iso8601(record.created, exact=True)  # type: ignore[method-assign]
    return formatter
