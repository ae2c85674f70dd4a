"""SGLang `Engine(...)` at module level, without a main guard, on a CPU (the SGLang incident).

Broken pattern: a script builds `sglang.Engine` at import time. The engine starts its scheduler
and detokenizer with multiprocessing under spawn (SGLang forces spawn, whatever the platform
default is); the spawned child re-imports the main script, reaches `Engine(...)` again while
still bootstrapping and fails with "An attempt has been made to start a new process before the
current process has finished its bootstrapping phase". The scheduler dies, and the parent
raises "Rank 0 scheduler died during initialization".
Why it shows on a CPU: the failure is in the child, before any model is loaded, so a CPU
machine reproduces it as long as the engine reaches its process launch with `device="cpu"`.
Measured (Python 3.12, CPU, every start method; see the report and reports/bisect/): SGLang
0.5.23 reaches the launch and crashes as described (`spawn-main-guard-missing`). Older releases
stop while importing the engine, before any process starts, because their import chain loads
GPU-only kernels: 0.4.5.post2 (`[srt-cpu]`, torch 2.13.0) "ModuleNotFoundError: No module named
'sgl_kernel'" (its `[srt]` pins sgl-kernel 0.0.9.post2, which the package index does not have);
0.4.10.post2 "RuntimeError: 0 active drivers ([]). There should only be one." (triton, at
import of sglang/srt/layers/quantization/fp8_kernel.py); 0.5.5.post3 "ImportError: libcuda.so.1:
cannot open shared object file" (sgl_kernel). These are recorded as `gpu-required-at-import`;
the GPU cells (cuda_sglang_*.py in matrices/gpu.toml) cover them on a GPU. The first release
that gets past the import on a CPU is 0.5.13 (bisected with the guarded twin, see its
docstring).
Fix: `sglang_engine_main_guard.py`.
Source: sgl-project/sglang, `Engine(...)` scripts without `if __name__ == "__main__":`
(reported with 0.4.5.post2).
Model: a tiny Llama built locally (_tiny_llama.py).
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["sglang", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# role = "mistake"
# twin = "sglang_engine_main_guard.py"
# timeout = 150
#
# [[tool.mpcompat.expect]]
# when = ["sglang<0.4.6"]
# verdict = "crash"
# signatures = ["dependency-import-error"]
#
# [[tool.mpcompat.expect]]
# when = ["sglang<0.5.13"]
# verdict = "crash"
# signatures = ["gpu-required-at-import"]
#
# [[tool.mpcompat.expect]]
# verdict = "hang"
# signatures = ["spawn-main-guard-missing"]
# ///
import sglang as sgl
from _tiny_llama import tiny_llama_dir

engine = sgl.Engine(model_path=tiny_llama_dir(), device="cpu", context_length=128)
out = engine.generate("hello world", {"max_new_tokens": 8, "temperature": 0.0})
print("generated:", repr(out["text"]))
engine.shutdown()
