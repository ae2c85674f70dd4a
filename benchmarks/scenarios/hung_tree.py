import multiprocessing
import threading


def stuck():
    threading.Event().wait()


if __name__ == "__main__":
    workers = [multiprocessing.Process(target=stuck) for _ in range(2)]
    for w in workers:
        w.start()
    stuck()
