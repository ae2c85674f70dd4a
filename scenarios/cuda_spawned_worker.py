"""Fixed twin of `cuda_forked_worker.py`: GPU workers come from a spawn context.

The parent may use CUDA freely; its workers are started with
`multiprocessing.get_context("spawn")`, which gives each a fresh interpreter and CUDA context,
whatever the platform default is (vLLM does the same with VLLM_WORKER_MULTIPROC_METHOD=spawn).
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["torch"]
#
# [tool.mpcompat]
# timeout = 180
# requires = ["cuda"]
# expect = { fork = "pass", spawn = "pass", forkserver = "pass" }
# ///
import multiprocessing

import torch


def worker(q):
    x = torch.ones(1024, device="cuda")
    q.put(float((x * 2).sum()))


if __name__ == "__main__":
    weights = torch.randn(256, 256, device="cuda")
    print("parent on", torch.cuda.get_device_name(0), float(weights.sum()), flush=True)
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=worker, args=(q,))
    p.start()
    p.join(120)
    if p.exitcode != 0:
        raise SystemExit(f"worker failed with exit code {p.exitcode}")
    print("worker result", q.get(timeout=10))
