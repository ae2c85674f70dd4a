"""Xinference serving through its vLLM engine, from a program that initialised CUDA first (the
Xinference + vLLM incident).

Broken pattern: the application touches the GPU (a warm-up, an embedding model) and then starts
Xinference's local deployment and launches a model with `model_engine="vLLM"`. Xinference's
vLLM backend calls `multiprocessing.set_start_method("fork", force=True)` (1.2.2 to 4.1.0, in
xinference/model/llm/vllm/core.py) so that vLLM's own workers are forked; a worker forked from
a process where CUDA is initialised fails with "Cannot re-initialize CUDA in forked
subprocess", and the model never launches.
On a CPU this cannot run: vLLM's CUDA build needs a GPU (the cell is skipped: needs cuda).
Fix: start vLLM's workers with spawn (VLLM_WORKER_MULTIPROC_METHOD=spawn), and keep CUDA out
of the process that starts Xinference.
Source: xorbitsai/inference with vLLM, "Cannot re-initialize CUDA in forked subprocess"
(reported with 1.2.2).
Model: a tiny Llama built locally (_tiny_llama.py), registered as a custom model.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["xinference", "vllm", "torch", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# timeout = 600
# requires = ["cuda"]
# args = ["--port", "{port}"]
#
# [[tool.mpcompat.expect]]
# verdict = "crash"
# signatures = ["cuda-reinit-forked-subprocess"]
#
# [tool.mpcompat.serve]
# workers = 1
# ready = "/v1/models/mpcompat-tiny-llama"
# ready_timeout = 480
# request_timeout = 60
# stop_timeout = 20
#
# [[tool.mpcompat.serve.requests]]
# path = "/v1/completions"
# json = { model = "mpcompat-tiny-llama", prompt = "hello world", max_tokens = 8 }
# contains = '"text_completion"'
# count = 2
# ///
import torch
from _xinference_local import parse_port, serve

if __name__ == "__main__":
    port = parse_port()
    torch.zeros(1, device="cuda")  # the application's own GPU warm-up: CUDA is initialised
    serve(port, engine="vLLM")
