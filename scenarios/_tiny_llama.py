"""Build a tiny Llama checkpoint on this machine (random weights, BPE tokenizer trained on a
few sentences) for the vllm_* scenarios: nothing is downloaded from a model hub.

The checkpoint is built once into a cache folder (MPCOMPAT_MODEL_CACHE, default
~/.cache/pytest-mpcompat) under a file lock, so concurrent cells share it. Its files name only
classes every transformers release since 4.x knows (`PreTrainedTokenizerFast`,
`LlamaForCausalLM`), so an engine pinned to an older transformers (Xinference 1.x, SGLang 0.4)
loads the same checkpoint as the newest.
"""

import fcntl
import json
import os
from pathlib import Path

SENTENCES = [
    "the model server starts two workers and answers every request",
    "fork copies the parent process, spawn starts a fresh interpreter",
    "a missing main guard makes every spawned child start the engine again",
    "hello world, this is a tiny llama used to test multiprocessing",
] * 20


def tiny_llama_dir():
    root = Path(os.environ.get("MPCOMPAT_MODEL_CACHE", Path.home() / ".cache" / "pytest-mpcompat"))
    target = root / "tiny-llama-h64-d32-v2"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".tiny-llama.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "done").exists():
            _build(target)
            (target / "done").write_text("ok")
    return str(target)


def _build(target):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    target.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(SENTENCES, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    fast.save_pretrained(target)
    # transformers 5 records its own backend class name, which earlier releases cannot import.
    config_file = target / "tokenizer_config.json"
    tok_config = json.loads(config_file.read_text())
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    tok_config.pop("backend", None)
    config_file.write_text(json.dumps(tok_config, indent=2))
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        torch_dtype="bfloat16",
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(target)
