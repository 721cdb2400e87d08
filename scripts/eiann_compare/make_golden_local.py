#!/usr/bin/env python3
"""Golden data made by EIANN itself (Milstein-Lab/EIANN; not part of this repository) for the
tests that compare libbtsp with it step by step on this machine:

  make_golden_local.py OUT STEM...            tests/test_model_golden_local.c
  make_golden_local.py --backprop OUT STEM... tests/test_model_golden_backprop.c

STEM names a configuration under configs/eiann/: `mnist/<file stem>` or `fmnist/<file stem>`
(the local-rule test's list), or just the file stem (the backprop test's list; the data set is
read from the name). OUT/<file stem>/ gets, as float32 .npy files named as EIANN names them:
  - init/ (EIANN's own initialisation, network seed 66049) and after1..3/ (the parameters after
    each of EIANN's Network.train steps on training images 0, 1, 2), plus inputs.npy, targets.npy
    and samples.txt; procedure and layout: scripts/make-golden-local.md;
  - with --backprop also the learned biases, grad1/ (dL/dW of sample 1 on the initial weights)
    and f64/ (the same with the default dtype float64: after1..3, grad1, and step1..3, one step on
    sample k from the float32-rounded weights of f64/after(k-1), init/ for k = 1);
    scripts/make-golden-local-backprop.md.
Environment: EIANN_ROOT (an EIANN checkout), FMNIST_ROOT (the directory holding FashionMNIST/raw,
torchvision layout), MNIST_DIR (the IDX files of scripts/get-mnist.sh, default
~/.cache/libbtsp/mnist). Run with the Python that has torch (/usr/bin/python3 on Debian); point
the tests at OUT with BTSP_GOLDEN_LOCAL=OUT (default ../eiann-ref/golden_local)."""
import gzip, os, sys
import numpy as np, torch
sys.path.insert(0, os.environ['EIANN_ROOT'])
import EIANN.utils as ut  # noqa: E402
import torchvision  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST = os.environ.get('MNIST_DIR', os.path.expanduser('~/.cache/libbtsp/mnist'))
torch.set_num_threads(1)


def idx(path, offset):
    with gzip.open(path, 'rb') as f:
        return np.frombuffer(f.read()[offset:], dtype=np.uint8)


def samples(fmnist):
    """Training images 0, 1, 2 as byte / 255 and their one-hot targets (float32), and labels."""
    if fmnist:
        ds = torchvision.datasets.FashionMNIST(root=os.environ['FMNIST_ROOT'], train=True, download=False)
        X = np.stack([np.asarray(ds[i][0], dtype=np.uint8).reshape(-1) for i in range(3)])
        L = np.array([ds[i][1] for i in range(3)])
    else:
        X = idx(os.path.join(MNIST, 'train-images-idx3-ubyte.gz'), 16)[:3 * 784].reshape(3, 784)
        L = idx(os.path.join(MNIST, 'train-labels-idx1-ubyte.gz'), 8)[:3]
    y = np.zeros((3, 10), dtype=np.float32)
    y[np.arange(3), L.astype(np.int64)] = 1.0
    return X.astype(np.float32) / 255.0, y, L


def params(net, biases):
    """name -> tensor: every projection weight, and with `biases` every bias EIANN registers."""
    d = {k: p.weight for k, p in net.projections.items()}
    if biases:
        d.update({k: p for k, p in net.parameter_dict.items() if k.endswith('_bias')})
    return d


def save(d, sub, tensors):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
    for k, t in tensors.items():
        np.save(os.path.join(d, sub, k + '.npy'), np.ascontiguousarray(t.detach().numpy(), dtype=np.float32))


def load(net, src, biases):
    with torch.no_grad():
        for k, t in params(net, biases).items():
            t.copy_(torch.from_numpy(np.load(os.path.join(src, k + '.npy'))).to(t.dtype))


def train(net, x, y, first, n, biases):
    """EIANN's own Network.train over samples first .. first + n - 1, keeping the parameters
    after every step; returns them as one name -> tensor dict per step."""
    dt = torch.get_default_dtype()
    data = [(i, torch.tensor(x[i], dtype=dt), torch.tensor(y[i], dtype=dt)) for i in range(first, first + n)]
    net.train(torch.utils.data.DataLoader(data, batch_size=1, shuffle=False), epochs=1, store_params=True,
              store_params_interval=(0, -1, 1))
    keys = params(net, biases).keys()
    steps = []
    for sd, st in zip(net.param_history, net.param_history_steps):
        if int(st) < 0:  # the initial state
            continue
        steps.append({k: sd[[kk for kk in sd if kk.endswith('.' + k + '.weight') or kk.endswith('.' + k)][0]]
                      for k in keys})
    return steps


def grad1(net, x, y):
    """dL/dW of sample 1 at the current weights, with autograd as EIANN's forward enables it
    (the last backward_steps steps)."""
    dt = torch.get_default_dtype()
    for p in net.projections.values():
        p.weight.requires_grad_(True)
        p.weight.grad = None
    out = net.forward(torch.tensor(x[0], dtype=dt).unsqueeze(0))
    net.criterion(out, torch.tensor(y[0], dtype=dt).reshape(out.shape)).backward()
    return {k: p.weight.grad if p.weight.grad is not None else torch.zeros_like(p.weight)
            for k, p in net.projections.items()}


def make(out, stem, backprop):
    fmnist = stem.startswith('fmnist/') or '_fmnist_' in stem
    name = stem.split('/', 1)[-1]
    cfg = os.path.join(REPO, 'configs/eiann', 'fmnist' if fmnist else 'mnist', name + '.yaml')
    build = lambda: ut.build_EIANN_from_config(cfg, network_seed=66049)  # noqa: E731
    d = os.path.join(out, name)
    x, y, L = samples(fmnist)
    torch.set_default_dtype(torch.float32)
    net = build()
    save(d, 'init', params(net, backprop))
    for k, p in enumerate(train(net, x, y, 0, 3, backprop)):
        save(d, 'after%d' % (k + 1), p)
    np.save(os.path.join(d, 'inputs.npy'), x)
    np.save(os.path.join(d, 'targets.npy'), y)
    with open(os.path.join(d, 'samples.txt'), 'w') as f:
        f.write('%s: training indices 0 1 2, labels %s\n' % ('fmnist' if fmnist else 'mnist', ' '.join(map(str, L))))
    if not backprop:
        return
    save(d, 'grad1', grad1(build(), x, y))
    torch.set_default_dtype(torch.float64)
    try:
        net = build()
        load(net, os.path.join(d, 'init'), True)
        for k, p in enumerate(train(net, x, y, 0, 3, True)):
            save(d, 'f64/after%d' % (k + 1), p)
        net = build()
        load(net, os.path.join(d, 'init'), True)
        save(d, 'f64/grad1', grad1(net, x, y))
        for k in range(3):
            net = build()
            load(net, os.path.join(d, 'init' if k == 0 else 'f64/after%d' % k), True)
            save(d, 'f64/step%d' % (k + 1), train(net, x, y, k, 1, True)[0])
    finally:
        torch.set_default_dtype(torch.float32)


if __name__ == '__main__':
    args = sys.argv[1:]
    backprop = bool(args) and args[0] == '--backprop'
    if backprop:
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    for stem in args[1:]:
        make(args[0], stem, backprop)
        print(stem, 'done')
