"""GPU variant of `sglang_engine_main_guard.py`: the engine under the main guard on a CUDA
device starts once and generates under every start method.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["sglang", "transformers", "tokenizers"]
#
# [tool.mpcompat]
# timeout = 300
# requires = ["cuda"]
# expect = { fork = "pass", spawn = "pass", forkserver = "pass" }
# ///
import sglang as sgl
from _tiny_llama import tiny_llama_dir

if __name__ == "__main__":
    engine = sgl.Engine(model_path=tiny_llama_dir(), context_length=128, mem_fraction_static=0.3)
    out = engine.generate("hello world", {"max_new_tokens": 8, "temperature": 0.0})
    print("generated:", repr(out["text"]))
    engine.shutdown()
