"""GPU variant of `sglang_engine_main_guard_missing.py`: SGLang `Engine(...)` at module level on a
CUDA device, as in the original report.

The spawned scheduler re-imports the main script and fails with "An attempt has been made to
start a new process before the current process has finished its bootstrapping phase". On a GPU
every SGLang release imports, so this is the cell for releases that stop at import on a CPU
(`gpu-required-at-import` in the CPU cells).
Fix: `cuda_sglang_engine_main_guard.py`.
Source: sgl-project/sglang, `Engine(...)` scripts without a main guard (0.4.5.post2).
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["sglang", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# role = "mistake"
# twin = "cuda_sglang_engine_main_guard.py"
# timeout = 300
# requires = ["cuda"]
#
# [[tool.mpcompat.expect]]
# verdict = "crash"
# signatures = ["spawn-main-guard-missing"]
# ///
import sglang as sgl
from _tiny_llama import tiny_llama_dir

engine = sgl.Engine(model_path=tiny_llama_dir(), context_length=128, mem_fraction_static=0.3)
out = engine.generate("hello world", {"max_new_tokens": 8, "temperature": 0.0})
print("generated:", repr(out["text"]))
engine.shutdown()
