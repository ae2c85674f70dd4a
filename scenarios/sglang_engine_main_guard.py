"""Fixed twin of `sglang_engine_main_guard_missing.py`: the engine is built under the main guard.

The spawned scheduler re-imports the script as `__mp_main__` and skips the guarded block, so
the engine starts once. On a CPU the twin then shows how far SGLang itself goes without a GPU.
Measured (Python 3.12, CPU): SGLang 0.5.23 starts its scheduler, which fails while building the
model: its non-CUDA path takes rotary embeddings from vLLM's custom ops ("ModuleNotFoundError:
No module named 'vllm'" at sglang/srt/layers/rotary_embedding/base.py), and SGLang's CPU
kernels (SGLANG_USE_CPU_ENGINE=1) need a CPU build of sgl-kernel that the package index does
not have (with it set, the engine import fails on "libcuda.so.1"). Recorded as
`sglang-cpu-kernels-missing`: the guard is right, the machine is not. Older releases stop at
import as the unguarded script does. Bisected over the 26 releases from 0.5.5.post3 to 0.5.23
(spawn, Python 3.12, reports/bisect/): 0.5.13 is the first that starts its scheduler on a CPU;
0.5.12.post1 and older fail on "libcuda.so.1" while importing sgl_kernel. The bisection pins
`kernels<=0.14.1`: installed today, 0.5.11 to 0.5.12.post1 get kernels 0.17, whose
LayerRepository the transformers they pin (5.6) calls without a version, and the engine import
fails with "ValueError: Either a revision or a version must be specified." (no signature: a
dependency released after them). The GPU twin (cuda_sglang_engine_main_guard.py) generates on
a GPU.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["sglang", "transformers", "tokenizers"]
#
# [tool.mpcompat]
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
# verdict = "crash"
# signatures = ["sglang-cpu-kernels-missing"]
# ///
import sglang as sgl
from _tiny_llama import tiny_llama_dir

if __name__ == "__main__":
    engine = sgl.Engine(model_path=tiny_llama_dir(), device="cpu", context_length=128)
    out = engine.generate("hello world", {"max_new_tokens": 8, "temperature": 0.0})
    print("generated:", repr(out["text"]))
    engine.shutdown()
