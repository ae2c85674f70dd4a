"""The catalog of known multiprocessing failure patterns, and matching them on a cell's output.

A signature is a stable id that reports, expectations and users refer to, with a one-line
explanation and the known fix. Matching reads output files in chunks so that a scenario printing
hundreds of megabytes does not cost the runner that much memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "BUILTIN_SIGNATURES",
    "failing_signatures",
    "LEAKED_PROCESSES",
    "PROCESS_LIMIT",
    "SHUTDOWN_IGNORED",
    "WORKERS_MISSING",
    "WORKERS_RESTARTING",
    "Signature",
    "match_files",
]

_CHUNK = 1 << 20
_OVERLAP = 4096  # a match may straddle two chunks; no pattern here spans more than this


@dataclass(frozen=True)
class Signature:
    """A known failure pattern.

    ``severity="error"`` means the pattern shows something failed even if the main process
    exited 0 (a launcher that ignores its dead workers); ``"warning"`` only records a hazard.
    A signature with no ``pattern`` is set by the runner itself (``leaked-processes``).
    """

    id: str
    pattern: str | None
    explanation: str
    fix: str
    severity: Literal["error", "warning"] = "error"

    def compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.MULTILINE) if self.pattern else None


LEAKED_PROCESSES = "leaked-processes"
WORKERS_RESTARTING = "workers-restarting"
WORKERS_MISSING = "workers-missing"
SHUTDOWN_IGNORED = "shutdown-ignored-signals"
PROCESS_LIMIT = "process-limit"

BUILTIN_SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "start-method-already-set",
        r"RuntimeError: context has already been set",
        "set_start_method() was called after a start method had already been chosen "
        "(by another library, or by an earlier call).",
        "Check multiprocessing.get_start_method(allow_none=True) before setting it, or use "
        "multiprocessing.get_context(method) instead of changing the global default "
        "(KServe does this from 0.14.0).",
    ),
    Signature(
        "cuda-reinit-forked-subprocess",
        r"Cannot re-initialize CUDA in forked subprocess",
        "The parent initialised CUDA, then a worker was forked and used CUDA; CUDA cannot "
        "survive fork().",
        "Start CUDA workers with spawn (vLLM: VLLM_WORKER_MULTIPROC_METHOD=spawn), or initialise "
        "CUDA only inside the workers.",
    ),
    Signature(
        "spawn-main-guard-missing",
        r"An attempt has been made to start a new process before the\s+current process "
        r"has finished its bootstrapping phase",
        "Under spawn or forkserver every child re-imports the main script; code at module level "
        "that starts processes runs again in the child.",
        'Put the code that starts the server or engine under `if __name__ == "__main__":`.',
    ),
    Signature(
        "unpicklable-target",
        r"(?:PicklingError|Can't pickle|cannot pickle|Can't get local object"
        r"|Can't pickle local object)",
        "Under spawn and forkserver the process target, its arguments and the model object are "
        "pickled; lambdas, local functions, locks, sockets and open clients cannot be.",
        "Use module-level functions, and create locks, clients and models inside the worker "
        "(or implement __getstate__/__setstate__ to drop them).",
    ),
    Signature(
        "mp-main-attribute-missing",
        r"AttributeError: Can't get attribute '[^']+' on <module '__mp_main__'",
        "A spawned child re-imported the main script but the function or class it needs is "
        "defined only inside the main guard.",
        "Define worker functions and classes at module level, outside the main guard.",
    ),
    Signature(
        "fork-with-threads",
        r"DeprecationWarning: This process \(pid=\d+\) is multi-threaded, use of fork\(\) "
        r"may lead to deadlocks in the child",
        "fork() was called while other threads were running (Python 3.12+ warns); a lock held "
        "by another thread stays locked forever in the child.",
        "Use spawn or forkserver, or fork before starting threads (thread pools, servers, "
        "tokenizers, OpenMP).",
        "warning",
    ),
    Signature(
        "tokenizers-fork-parallelism",
        r"huggingface/tokenizers: The current process just got forked, after parallelism "
        r"has already been used",
        "A Hugging Face tokenizer ran its thread pool in the parent before fork(); the library "
        "disables parallelism in the child to avoid deadlocks.",
        "Set TOKENIZERS_PARALLELISM=false, avoid tokenizing in the parent before forking, or "
        "use spawn.",
        "warning",
    ),
    Signature(
        "broken-process-pool",
        r"BrokenProcessPool|A process in the process pool was terminated abruptly",
        "A worker of a concurrent.futures process pool died (killed by a signal, out of "
        "memory, or a crash in native code).",
        "Read the worker's own error above; a signal usually means a native crash or the OOM "
        "killer.",
    ),
    Signature(
        "worker-fatal-signal",
        r"Fatal Python error: (?:Segmentation fault|Bus error|Floating point exception"
        r"|Illegal instruction|Aborted)",
        "A Python process of the cell died from a fatal signal in native code.",
        "Look at the Python stack printed with it; native libraries that are not fork-safe "
        "(CUDA, OpenMP, gRPC) are the usual cause under fork.",
    ),
    Signature(
        "semaphore-leak",
        r"resource_tracker: There appear to be \d+ leaked semaphore objects",
        "Processes exited without releasing multiprocessing semaphores, usually because "
        "workers were killed.",
        "Shut pools and queues down before exit, or find out why the workers died.",
        "warning",
    ),
    Signature(
        LEAKED_PROCESSES,
        None,
        "Processes of the cell were still alive after its main process exited (daemons, "
        "detached grandchildren or workers nobody joined).",
        "Join or terminate workers on shutdown; a server should stop its workers on SIGTERM.",
    ),
    Signature(
        PROCESS_LIMIT,
        None,
        "The cell started more processes than its max_processes allows (a fork bomb, or a pool "
        "that keeps replacing workers); the harness killed it.",
        "Bound the number of workers, and check why processes are started in a loop.",
    ),
    Signature(
        "out-of-memory",
        r"MemoryError|Cannot allocate memory|std::bad_alloc|DefaultCPUAllocator: not enough memory",
        "A process of the cell ran out of memory (or of its memory_limit_mb).",
        "Give each worker less to hold (load the model once, share it), or fewer workers.",
    ),
    Signature(
        WORKERS_RESTARTING,
        None,
        "The server never became ready because its workers kept dying and being replaced.",
        "Read the first worker's error in the output; under spawn it is often a pickling or "
        "import error, under fork a library that does not survive fork.",
    ),
    Signature(
        WORKERS_MISSING,
        None,
        "The server answered, but fewer worker processes exist than it was asked for.",
        "Check how the server starts its workers (a silently dead worker, or workers=N ignored).",
    ),
    Signature(
        SHUTDOWN_IGNORED,
        None,
        "The server ignored SIGTERM and SIGINT and had to be killed.",
        "Handle SIGTERM: stop accepting requests, stop the workers, exit (Kubernetes sends "
        "SIGTERM, then SIGKILL after the grace period).",
    ),
)


def failing_signatures(ids: Iterable[str], catalog: Mapping[str, Signature]) -> list[str]:
    """The ids that show something failed (severity "error"), even if the exit code was 0."""
    return [s for s in ids if s in catalog and catalog[s].severity == "error"]


def match_files(paths: Iterable[Path], catalog: Sequence[Signature]) -> list[str]:
    """Ids of the catalog entries whose pattern occurs in any of the files, in catalog order."""
    patterns = [(sig.id, sig.compiled()) for sig in catalog]
    pending = {sid: rx for sid, rx in patterns if rx is not None}
    found: set[str] = set()
    for path in paths:
        if not pending:
            break
        try:
            fh = open(path, "rb")
        except OSError:
            continue
        with fh:
            tail = ""
            while pending:
                block = fh.read(_CHUNK)
                if not block:
                    break
                text = tail + block.decode("utf-8", errors="replace")
                for sid, rx in list(pending.items()):
                    if rx.search(text):
                        found.add(sid)
                        del pending[sid]
                tail = text[-_OVERLAP:]
    return [sid for sid, _ in patterns if sid in found]
