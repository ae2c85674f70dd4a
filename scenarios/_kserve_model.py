"""A small torch model behind kserve.Model, shared by the kserve_* scenarios.

It is big enough that each predict runs torch's OpenMP thread pool (a 64x512 by 512x512
matmul), which is what does not survive fork() once the parent has used it.
"""

import argparse

import kserve
import torch


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grpc-port", type=int, default=None, help="enable gRPC on this port")
    return parser.parse_args()


class TinyMLP(kserve.Model):
    def __init__(self, name="mlp", load_now=True):
        super().__init__(name)
        self.net = None
        if load_now:
            self.load()
        self.ready = True

    def load(self):
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Linear(512, 1)
        ).eval()

    def predict(self, payload, headers=None):
        if self.net is None:  # loaded lazily, inside the worker that serves
            self.load()
        x = torch.tensor(payload["instances"], dtype=torch.float32)
        batch = x.repeat(64, 1)[:, :512] if x.shape[1] >= 512 else torch.ones(64, 512) * x.mean()
        with torch.no_grad():
            y = self.net(batch)
        return {"predictions": [float(y.mean())]}


def serve(model, port, workers, grpc_port=None):
    if grpc_port is None:
        server = kserve.ModelServer(http_port=port, workers=workers, enable_grpc=False)
    else:
        server = kserve.ModelServer(
            http_port=port, grpc_port=grpc_port, workers=workers, enable_grpc=True
        )
    server.start([model])
