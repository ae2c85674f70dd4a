"""One library picks spawn, then the server insists on fork (the KServe < 0.14 pattern)."""

import multiprocessing


def serve():
    print("worker serving")


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # e.g. torch.multiprocessing at import
    multiprocessing.set_start_method("fork")  # the server, without checking first
    p = multiprocessing.Process(target=serve)
    p.start()
    p.join()
