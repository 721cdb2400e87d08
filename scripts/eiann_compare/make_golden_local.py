#!/usr/bin/env python3
"""Golden trajectories of the local-rule networks for tests/test_model_golden_local.c, made by
EIANN itself (Milstein-Lab/EIANN; not part of this repository). Procedure and layout:
scripts/make-golden-local.md.

  EIANN_ROOT=... FMNIST_ROOT=... MNIST_DIR=... make_golden_local.py OUT STEM...

STEM is a configuration under configs/eiann/ without .yaml (e.g. mnist/20241212_EIANN_2_hidden_
mnist_BTSP_config_5L_complete_optimized); OUT/<file stem>/ gets init/, after1..3/, inputs.npy,
targets.npy and samples.txt. EIANN_ROOT: an EIANN checkout; FMNIST_ROOT: the directory holding
FashionMNIST/raw (torchvision layout); MNIST_DIR: the IDX files of scripts/get-mnist.sh (default
~/.cache/libbtsp/mnist). Run with the Python that has torch (/usr/bin/python3 on Debian).
Point the test at OUT with BTSP_GOLDEN_LOCAL=OUT (default ../eiann-ref/golden_local)."""
import gzip, os, sys
import numpy as np, torch
sys.path.insert(0, os.environ['EIANN_ROOT'])
import EIANN.utils as ut
import torchvision
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST = os.environ.get('MNIST_DIR', os.path.expanduser('~/.cache/libbtsp/mnist'))
OUT = sys.argv[1]
stems = sys.argv[2:]
torch.set_num_threads(1)


def idx_images(path):
    with gzip.open(path, 'rb') as f:
        b = f.read()
    n, r, c = np.frombuffer(b[4:16], dtype='>u4')
    return np.frombuffer(b[16:], dtype=np.uint8).reshape(n, r * c)


def idx_labels(path):
    with gzip.open(path, 'rb') as f:
        b = f.read()
    return np.frombuffer(b[8:], dtype=np.uint8)


for stem in stems:
    if stem.startswith('fmnist/'):
        ds = torchvision.datasets.FashionMNIST(root=os.environ['FMNIST_ROOT'], train=True, download=False)
        X = np.stack([np.asarray(ds[i][0], dtype=np.uint8).reshape(-1) for i in range(3)])
        L = np.array([ds[i][1] for i in range(3)])
    else:
        X = idx_images(os.path.join(MNIST, 'train-images-idx3-ubyte.gz'))[:3]
        L = idx_labels(os.path.join(MNIST, 'train-labels-idx1-ubyte.gz'))[:3]
    x = torch.tensor(X.astype(np.float32) / 255.0)
    y = torch.zeros(3, 10); y[torch.arange(3), torch.tensor(L.astype(np.int64))] = 1.0
    net = ut.build_EIANN_from_config(os.path.join(REPO, 'configs/eiann', stem + '.yaml'), network_seed=66049)
    d = os.path.join(OUT, stem.split('/', 1)[1])
    def save(sub):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for k, p in net.projections.items():
            np.save(os.path.join(d, sub, k + '.npy'), np.ascontiguousarray(p.weight.data.numpy(), dtype=np.float32))
    save('init')
    data = [(i, x[i], y[i]) for i in range(3)]
    dl = torch.utils.data.DataLoader(data, batch_size=1, shuffle=False)
    # EIANN's own training loop over the three samples, keeping the parameters after every step
    net.train(dl, epochs=1, store_params=True, store_params_interval=(0, -1, 1))
    hist = net.param_history
    steps = net.param_history_steps
    for k_i, st in enumerate(int(s) for s in steps):
        if st < 0:  # the initial state
            continue
        sd = hist[k_i]
        sub = 'after%d' % (st + 1)
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        for k, p in net.projections.items():
            key = [kk for kk in sd if kk.endswith(k + '.weight')]
            assert len(key) == 1, (k, key)
            np.save(os.path.join(d, sub, k + '.npy'), np.ascontiguousarray(sd[key[0]].numpy(), dtype=np.float32))
    np.save(os.path.join(d, 'inputs.npy'), x.numpy())
    np.save(os.path.join(d, 'targets.npy'), y.numpy())
    with open(os.path.join(d, 'samples.txt'), 'w') as f:
        f.write('%s: training indices 0 1 2, labels %s\n' % (stem.split('/')[0], ' '.join(map(str, L))))
    print(stem, 'done')
