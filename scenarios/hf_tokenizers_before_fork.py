"""A Hugging Face tokenizer used in the parent before the workers are forked.

Pattern: the server tokenizes a warm-up batch in the parent (the Rust tokenizer runs its thread
pool), then forks workers that tokenize too. The library detects the fork and disables its
parallelism in the child, printing "huggingface/tokenizers: The current process just got
forked, after parallelism has already been used. Disabling parallelism to avoid deadlocks...".
This scenario records what really happens: measured, it passes under every method; with
tokenizers 0.22.1 and older the fork cell prints that warning, from 0.22.2 (0.23.3 here) the
library still disables parallelism in the child but says nothing.
Fix (to silence it and keep the behaviour explicit): TOKENIZERS_PARALLELISM=false, tokenize
in the workers only, or use spawn.
Source: every transformers-based server that forks (TGI, Xinference, custom KServe predictors).
The tokenizer is trained here on a few sentences: nothing is downloaded.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["tokenizers"]
#
# [tool.mpcompat]
# role = "mistake"
# timeout = 60
#
# [[tool.mpcompat.expect]]
# methods = ["fork"]
# when = ["tokenizers<0.22.2"]
# verdict = "pass"
# signatures = ["tokenizers-fork-parallelism"]
#
# [[tool.mpcompat.expect]]
# verdict = "pass"
# ///
import multiprocessing

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

TEXT = [
    "the model server starts two workers",
    "each worker answers predict requests",
    "fork copies the parent, spawn starts a fresh interpreter",
] * 50


def build():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=200, special_tokens=["[UNK]"]))
    return tok


def worker(tok, q):
    q.put(len(tok.encode_batch(TEXT[:10])))


if __name__ == "__main__":
    tok = build()
    print("warm-up", len(tok.encode_batch(TEXT)), flush=True)  # parallel, in the parent
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=worker, args=(tok, q))
    p.start()
    print("worker encoded", q.get(timeout=30))
    p.join()
    raise SystemExit(p.exitcode)
