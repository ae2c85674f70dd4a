"""KFServing 0.12/0.13 with workers >= 2 on a GPU: the model on CUDA, workers forked.

Broken pattern: the predictor moves its model to the GPU in the parent, then KServe < 0.14 forks
its uvicorn workers. The first predict in a worker raises `Cannot re-initialize CUDA in forked
subprocess`; the server answers its health check, and every predict fails with HTTP 500.
Fix: one worker per replica (scale with replicas, not workers), or load the model in the worker.
Source: kserve/kserve KFServing 0.12.1, workers >= 2, GPU.
"""

# /// script
# requires-python = ">=3.10"
# dependencies = ["kserve>=0.10", "torch"]
#
# [tool.mpcompat]
# timeout = 180
# requires = ["cuda"]
# args = ["--port", "{port}", "--workers", "{workers}"]
#
# [[tool.mpcompat.expect]]
# when = ["kserve<0.14"]
# verdict = "crash"
# signatures = ["cuda-reinit-forked-subprocess"]
#
# [tool.mpcompat.serve]
# workers = 2
# ready = "/v1/models/mlp"
# ready_timeout = 120
#
# [[tool.mpcompat.serve.requests]]
# path = "/v1/models/mlp:predict"
# json = { instances = [[1.0, 2.0]] }
# contains = '"predictions"'
# count = 2
# ///
import torch
from _kserve_model import TinyMLP, parse_args, serve


class GpuMLP(TinyMLP):
    def load(self):
        super().load()
        self.net = self.net.cuda()

    def predict(self, payload, headers=None):
        x = torch.tensor(payload["instances"], dtype=torch.float32, device="cuda")
        with torch.no_grad():
            y = self.net(torch.ones(64, 512, device="cuda") * x.mean())
        return {"predictions": [float(y.mean())]}


if __name__ == "__main__":
    args = parse_args()
    serve(GpuMLP(), args.port, args.workers)
