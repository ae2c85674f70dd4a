"""Xinference's local deployment as `xinference-local` runs it, in this process, with a tiny
locally built Llama launched through an engine of Xinference's (transformers by default; the
GPU scenario uses vLLM), for the xinference_* scenarios.

`serve(port)` runs `xinference.deploy.local.main` (supervisor, worker and RESTful API on
127.0.0.1) in the calling thread, after starting a thread that waits for the API and then
registers and launches the model with Xinference's own client, as a user would from a second
terminal. The harness waits for `/v1/models/<MODEL>` and sends completions. XINFERENCE_HOME
is a fresh folder per run, so no registration is left behind.
From 4.x Xinference serves with accounts by default: every request is answered 401 until an
admin account is created (its log says "FIRST-RUN SETUP REQUIRED"). Accounts are not what is
measured, so the deployment runs without them (XINFERENCE_AUTH_ADVANCED=0, Xinference's own
switch; older releases ignore it).
"""

import argparse
import json
import os
import tempfile
import threading
import time
import urllib.request
from importlib.metadata import version

from _tiny_llama import tiny_llama_dir

MODEL = "mpcompat-tiny-llama"


def _spec():
    """A custom LLM registration: format 1 before Xinference 1.8, format 2 since."""
    major, minor = (int(p) for p in version("xinference").split(".")[:2])
    spec = {"model_format": "pytorch", "model_size_in_billions": 1, "model_uri": tiny_llama_dir()}
    if (major, minor) >= (1, 8):
        form, spec["quantization"] = 2, "none"
    else:
        form, spec["quantizations"] = 1, ["none"]
    return {
        "version": form,
        "context_length": 256,
        "model_name": MODEL,
        "model_lang": ["en"],
        "model_ability": ["generate"],
        "model_family": "other",
        "model_specs": [spec],
    }


def _launch(port, engine):
    base = f"http://127.0.0.1:{port}"
    while True:  # the harness bounds the wait (ready_timeout)
        try:
            with urllib.request.urlopen(base + "/v1/models", timeout=5):
                break
        except OSError:
            time.sleep(0.2)
    from xinference.client import RESTfulClient

    client = RESTfulClient(base)
    client.register_model(model_type="LLM", model=json.dumps(_spec()), persist=False)
    client.launch_model(
        model_uid=MODEL,
        model_name=MODEL,
        model_engine=engine,
        model_format="pytorch",
        model_size_in_billions=1,
        quantization="none",
    )
    print("launched", MODEL, flush=True)


def parse_port():
    """The API port the harness gives the scenario (`--port {port}`)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args().port


def serve(port, engine="transformers"):
    os.environ["XINFERENCE_HOME"] = tempfile.mkdtemp(prefix="xinference-home-")
    os.environ.setdefault("XINFERENCE_AUTH_ADVANCED", "0")
    threading.Thread(target=_launch, args=(port, engine), daemon=True).start()
    from xinference.deploy.local import main

    main(host="127.0.0.1", port=port)
