"""CUDA initialised in the parent, then used in a forked worker (KFServing on GPU, Xinference).

Broken pattern: the server touches the GPU before starting its workers (loads weights to the
GPU, checks `torch.cuda.is_available()` and allocates, warms up), then forks them. The first
CUDA call in a forked worker raises `RuntimeError: Cannot re-initialize CUDA in forked
subprocess. To use CUDA with multiprocessing, you must use the 'spawn' start method`. Spawned
and forkserver workers start a fresh CUDA context and pass.
Fix: `cuda_spawned_worker.py` (take a spawn context for GPU workers).
Source: kserve/kserve KFServing 0.12.1 with workers >= 2 on GPU; xorbitsai/inference with vLLM
workers forked after CUDA was initialised.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["torch"]
#
# [tool.mpcompat]
# role = "mistake"
# twin = "cuda_spawned_worker.py"
# timeout = 180
# requires = ["cuda"]
#
# [tool.mpcompat.expect]
# fork = { verdict = "crash", signatures = ["cuda-reinit-forked-subprocess"] }
# spawn = "pass"
# forkserver = "pass"
# ///
import multiprocessing

import torch


def worker(q):
    x = torch.ones(1024, device="cuda")
    q.put(float((x * 2).sum()))


if __name__ == "__main__":
    weights = torch.randn(256, 256, device="cuda")  # the parent initialises CUDA
    print("parent on", torch.cuda.get_device_name(0), float(weights.sum()), flush=True)
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=worker, args=(q,))
    p.start()
    p.join(120)
    if p.exitcode != 0:
        raise SystemExit(f"worker failed with exit code {p.exitcode}")
    print("worker result", q.get(timeout=10))
