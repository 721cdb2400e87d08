"""BTSP vs backprop from Python: train two published EIANN networks on Fashion-MNIST with the
libbtsp binding and compare what they learn, in a few seconds.

    python3 examples/python/compare_rules.py [samples] [test rows]      (defaults 3000 1000)

For each network (BTSP with symmetric top-down feedback, and plain feed-forward backprop) it
trains `samples` samples of the first 50,000 training images in the order `btsp train` uses for
data seed 257, then reports test accuracy and two properties of the first hidden layer's
representation on the test rows: sparsity (mean fraction of silent units per image) and the
participation ratio (effective dimensionality, (sum of eigenvalues)^2 / sum of squares, of the
covariance of the activities). A teaching example: everything is plain NumPy around
btsp.Net.from_config / train / accuracy / activity. Needs Debian's dataset-fashion-mnist; exits
77 (skipped) without it.
"""
import gzip
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import btsp  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
CONFIGS = {
    "BTSP (symmetric top-down)": "20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_zero_bias_complete_optimized.yaml",
    "backprop (feed-forward)": "20250606_EIANN_2_hidden_fmnist_van_bp_relu_SGD_config_G_zero_bias_complete_optimized.yaml",
}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(kind):
    images = read_idx(os.path.join(DATA, f"{kind}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA, f"{kind}-labels-idx1-ubyte.gz"))
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255), labels.astype(np.int64)


def participation_ratio(acts):
    ev = np.clip(np.linalg.eigvalsh(np.cov(acts, rowvar=False)), 0.0, None)
    return float(ev.sum() ** 2 / (ev ** 2).sum()) if ev.sum() > 0 else float("nan")


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    n_test = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if not os.path.exists(os.path.join(DATA, "train-images-idx3-ubyte.gz")):
        print(f"SKIP: Fashion-MNIST not found in {DATA} (apt-get install dataset-fashion-mnist)")
        return 77
    X, y = load("train")
    X, y = X[:50000], y[:50000]  # EIANN's training split (the last 10,000 are validation)
    Xt, yt = load("t10k")
    Xt, yt = Xt[:n_test], yt[:n_test]
    Y = np.eye(10, dtype=np.float32)[y]
    order = btsp.permutation(257, 0, len(X))[:samples]  # `btsp train --data-seed 257`, first epoch
    print(f"{samples} training samples, {n_test} test images (libbtsp {btsp.version()})")
    print(f"{'network':28s} {'test acc.':>9s} {'H1.E silent':>11s} {'H1.E PR':>8s} {'train s':>8s}")
    results = {}
    for name, cfg in CONFIGS.items():
        with btsp.Net.from_config(os.path.join(ROOT, "configs", "eiann", "fmnist", cfg), seed=66049) as net:
            t0 = time.perf_counter()
            net.train(X, Y, order=order)
            dt = time.perf_counter() - t0
            acc = net.accuracy(Xt, yt)
            h1 = net.activity(Xt, ["H1.E"])["H1.E"]
            silent = float(np.mean(h1 <= 0.0))
            pr = participation_ratio(h1)
            results[name] = acc
            print(f"{name:28s} {acc:8.2f}% {silent:11.3f} {pr:8.2f} {dt:8.2f}")
    # both must have learnt well beyond chance (10 %, three times it): a broken binding or model
    # fails here, an ordinary change of the learning curve does not
    return 0 if all(a > 30.0 for a in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
