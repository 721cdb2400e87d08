#!/usr/bin/env python3
"""Step-by-step comparison of libbtsp with EIANN (Milstein-Lab/EIANN, not part of this repository).

  compare.py resync START N   EIANN trains from weights WEIGHTS on the sample order ORDER[START:START+N];
                              before every sample libbtsp is given EIANN's exact weights and does the
                              same step; the two weight changes are compared.
  compare.py mirror START N   the same with the roles swapped: libbtsp runs freely and EIANN is given
                              libbtsp's weights before every sample.
  compare.py order DATA_SEED FILE
                              save the training order EIANN's DataLoader uses for DATA_SEED (int64 .npy).
  compare.py init SEED DIR    save EIANN's initial weights for network seed SEED as DIR/<proj>.npy
                              (float32, post x pre), for `btsp train --init-weights DIR`.
  compare.py perturb SRC DST SEED EPS
                              copy the weight directory SRC to DST with every weight multiplied by
                              1 + EPS * N(0, 1) (numpy default_rng(SEED)); signs and zeros are kept.
  compare.py distinct DIR...   distinct units (btsp_an_distinct_rows, tolerance 1e-4) of every projection
                              in each weight directory (EIANN's or libbtsp's snapshots).
  compare.py torchsum [SEED]  libbtsp's row normalisation against torch's, bit for bit (exit 1 on a
                              difference), and how often a collapsed block gets row-dependent sums.
  compare.py train SEED DATA_SEED SAMPLES
                              EIANN's own run (network seed SEED, data seed DATA_SEED): test accuracy;
                              with VAL_WINDOW=W also the mean validation accuracy every 100 samples over
                              the last W (what `btsp train --val-window W` reports).
  compare.py continue START END [PATCH]
                              EIANN from WEIGHTS on ORDER[START:END]: test accuracy. PATCH swaps in one of
                              libbtsp's arithmetic choices: norm (row normalisation in double, one
                              rounding), outer (Hebbian/DendriticLoss updates as (c a_post) a_pre), q (q of
                              BTSP_19 in double), float64 (the whole network in double). With
                              SAVE_EVERY=K the weights after every K samples (and at END) go to
                              OUT/after<N>/, N counted from the start of ORDER.

Per step and projection it records max|dW_libbtsp - dW_EIANN| / max|dW| (floor: 1e-4 of max|W|) in
OUT/rows.npy and writes OUT/step_<k>.npz (weights before, both results, sample) for every step above
1e-2. See scripts/eiann-compare.md for the environment and how the results were used.
Environment: EIANN_ROOT (EIANN checkout), CONFIG (YAML), WEIGHTS (directory of <proj>.npy to start
from), ORDER (.npy of training-file indices), FMNIST_ROOT (directory holding FashionMNIST/raw), OUT.
Run with the Python that has torch (e.g. /usr/bin/python3 on Debian)."""
import ctypes, glob, os, subprocess, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
env = lambda k: os.environ[k]
sys.path.insert(0, env('EIANN_ROOT'))
import EIANN.utils as ut  # noqa: E402
import torchvision  # noqa: E402

mode = sys.argv[1]


def test_accuracy(net):
    """Percent correct on t10k: one batched forward in the default dtype, argmax (ties: lowest)."""
    _, _, test_dl, _ = ut.get_FashionMNIST_dataloaders(data_dir=env('FMNIST_ROOT'))
    xs, ys = zip(*[(b[1], b[2]) for b in test_dl])
    x, y = torch.cat(xs).to(torch.get_default_dtype()), torch.cat(ys)
    with torch.no_grad():
        out = net.forward(x)
    return 100.0 * (out.argmax(1) == y.argmax(1)).double().mean().item()


def save_weights(net, d):
    """Every projection of an EIANN network as d/<proj>.npy (float32, post x pre)."""
    os.makedirs(d, exist_ok=True)
    for k, p in net.projections.items():
        np.save(os.path.join(d, k + '.npy'), np.ascontiguousarray(p.weight.data.numpy(), dtype=np.float32))


def build_lib():
    """libbtsp (core, io and the metrics of the analyses) plus shim.c as OUT/libcmp.so, via ctypes."""
    out = env('OUT')
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'libcmp.so')
    srcs = glob.glob(os.path.join(REPO, 'src', '*.c')) + glob.glob(os.path.join(REPO, 'src', 'io', '*.c'))
    srcs.append(os.path.join(REPO, 'src', 'analysis', 'metrics.c'))
    subprocess.check_call(['cc', '-O2', '-fPIC', '-shared', '-std=c11', '-D_POSIX_C_SOURCE=200809L',
                           '-I' + os.path.join(REPO, 'include'), '-I' + os.path.join(REPO, 'src'),
                           os.path.join(HERE, 'shim.c')] + srcs + ['-o', path, '-lyaml', '-lz', '-lm'])
    return ctypes.CDLL(path)


if mode == 'order':
    train_dl, _, _, gen = ut.get_FashionMNIST_dataloaders(data_dir=env('FMNIST_ROOT'))
    gen.manual_seed(int(sys.argv[2]))
    np.save(sys.argv[3], np.array([int(b[0]) for b in train_dl], dtype=np.int64))
    sys.exit(0)
if mode == 'init':
    save_weights(ut.build_EIANN_from_config(env('CONFIG'), network_seed=int(sys.argv[2])), sys.argv[3])
    sys.exit(0)
if mode == 'perturb':
    # every weight times (1 + EPS * N(0, 1)): keeps signs and exact zeros (removed autapses)
    src, dst, seed, eps = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    rng = np.random.default_rng(seed)
    os.makedirs(dst, exist_ok=True)
    for f in sorted(glob.glob(os.path.join(src, '*.npy'))):
        w = np.load(f)
        np.save(os.path.join(dst, os.path.basename(f)), (w * (1 + eps * rng.standard_normal(w.shape))).astype(np.float32))
    sys.exit(0)
if mode == 'distinct':
    lib = build_lib()
    lib.btsp_an_distinct_rows.restype = ctypes.c_size_t
    lib.btsp_an_distinct_rows.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_double,
                                          ctypes.c_void_p]
    dirs = sys.argv[2:]
    names = sorted(os.path.basename(f)[:-4] for f in glob.glob(os.path.join(dirs[0], '*.npy')))
    print('%-24s %s' % ('projection', ' '.join('%10s' % os.path.basename(d.rstrip('/')) for d in dirs)))
    for k in names:
        counts = []
        for d in dirs:
            w = np.ascontiguousarray(np.load(os.path.join(d, k + '.npy')), dtype=np.float32)
            n = lib.btsp_an_distinct_rows(w.ctypes.data_as(ctypes.c_void_p), w.shape[0], w.shape[1], 1e-4, None)
            counts.append('%6d/%-3d' % (n, w.shape[0]))
        print('%-24s %s' % (k, ' '.join(counts)))
    sys.exit(0)
if mode == 'torchsum':
    # libbtsp's row normalisation against EIANN's normalize_weight arithmetic (torch.sum of |W| over
    # rows, then W / s * scale), bit for bit: random rows of every length 1..800, and constant square
    # blocks with a zeroed diagonal (a collapsed recurrent population), where it counts how often the
    # position of the zero changes the row sums.
    lib = build_lib()
    lib.btsp_k_row_l1_normalize.argtypes = [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_float, ctypes.c_int]
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    scale = 1.838854683815819

    def both(w, zero_diag):
        t = torch.from_numpy(w.copy())
        if zero_diag:
            t.fill_diagonal_(0.)
        t /= torch.sum(torch.abs(t), axis=1).unsqueeze(1)
        t *= scale
        mine = np.ascontiguousarray(w.copy())
        lib.btsp_k_row_l1_normalize(mine.shape[0], mine.shape[1], mine.ctypes.data_as(ctypes.c_void_p),
                                    mine.shape[1], scale, int(zero_diag))
        return t.numpy(), mine
    bad = 0
    for n in range(1, 801):
        e, m = both(rng.random((4, n), dtype=np.float32) * np.float32(0.05), False)
        bad += not np.array_equal(e, m)
    differ = trials = 0
    for _ in range(2000):
        w = np.full((50, 50), -(0.03 + 0.01 * rng.random()), dtype=np.float32)
        e, m = both(w, True)
        bad += not np.array_equal(e, m)
        trials += 1
        differ += len(np.unique(e[~np.eye(50, dtype=bool)])) > 1
    print('row lengths 1..800 and %d collapsed 50 x 50 blocks: %d differ from torch bit for bit' % (trials, bad))
    print('collapsed blocks whose rows come out different (position of the zero): %d of %d' % (differ, trials))
    sys.exit(bad != 0)
if mode == 'train':
    train_dl, val_dl, _, gen = ut.get_FashionMNIST_dataloaders(data_dir=env('FMNIST_ROOT'))
    net = ut.build_EIANN_from_config(env('CONFIG'), network_seed=int(sys.argv[2]))
    gen.manual_seed(int(sys.argv[3]))
    window = int(os.environ.get('VAL_WINDOW', '0'))
    if window:
        # EIANN's optimisation protocol: validation every 100 samples over the last `window`
        # (val_interval (-window, -1, 100)); its recorded figure is the mean of those points
        net.train(train_dl, val_dl, epochs=1, val_interval=(-window, -1, 100), samples_per_epoch=int(sys.argv[4]))
        acc = net.val_accuracy_history[-(window // 100):]
        print('EIANN seed %s data seed %s: windowed validation accuracy %.3f (%d points)' %
              (sys.argv[2], sys.argv[3], float(torch.mean(torch.as_tensor(acc, dtype=torch.float64))), len(acc)))
    else:
        net.train(train_dl, epochs=1, samples_per_epoch=int(sys.argv[4]))
    print('EIANN seed %s data seed %s: test accuracy %.2f' % (sys.argv[2], sys.argv[3], test_accuracy(net)))
    sys.exit(0)
if mode == 'continue':
    import EIANN.rules as R
    import EIANN.rules.weight_functions as wf
    A, B = int(sys.argv[2]), int(sys.argv[3])
    patch = sys.argv[4] if len(sys.argv) > 4 else ''
    if patch == 'norm':
        def normalize_weight(projection, scale, autapses=False, axis=1):
            if not autapses:
                wf.no_autapses(projection)
            w = projection.weight.data.double()
            s_ = torch.sum(torch.abs(w), axis=axis).unsqueeze(1)
            f = torch.where(s_ != 0, scale / torch.where(s_ != 0, s_, torch.ones_like(s_)), torch.ones_like(s_))
            projection.weight.data.copy_((w * f).float())
        R.normalize_weight = normalize_weight
    if patch == 'outer':
        def hebb_step(self):
            q = self.projection
            fwd = self.forward_only
            post = q.post.forward_activity if fwd else q.post.activity
            if q.direction in ['forward', 'F']:
                pre = q.pre.forward_activity if fwd else q.pre.activity
            else:
                pre = q.pre.forward_prev_activity if fwd else q.pre.prev_activity
            c = torch.tensor(float(self.learning_rate if self.sign > 0 else -self.learning_rate), dtype=torch.float32)
            q.weight.data += torch.outer(post * c, pre)

        def dl_step(self):
            q = self.projection
            d = torch.clamp(q.post.forward_dendritic_state.detach().clone(), min=-1, max=1)
            pre = q.pre.forward_activity if q.direction in ['forward', 'F'] else q.pre.forward_prev_activity
            c = torch.tensor(float(self.sign * self.learning_rate), dtype=torch.float32)
            q.weight.data += torch.outer(d * c, torch.clamp(pre, min=0, max=1))
        R.Hebb_WeightNorm.step = hebb_step
        R.DendriticLoss_6.step = dl_step
    dtype = torch.float64 if patch == 'float64' else torch.float32
    torch.set_default_dtype(dtype)
    tf = torchvision.transforms.Compose([torchvision.transforms.ToTensor(), torchvision.transforms.Lambda(torch.flatten)])
    train = torchvision.datasets.FashionMNIST(root=env('FMNIST_ROOT'), train=True, download=False, transform=tf)
    net = ut.build_EIANN_from_config(env('CONFIG'), network_seed=66049)
    for k, p in net.projections.items():
        p.weight.data = torch.from_numpy(np.load(os.path.join(env('WEIGHTS'), k + '.npy'))).to(dtype).clone()
    if patch == 'q':
        for p in net.projections.values():
            rule = getattr(p, 'learning_rule', None)
            if rule is not None and hasattr(rule, 'q_dep'):
                rule.q_dep = (lambda x, f=rule.q_dep: f(x.double()).float())
    order = np.load(env('ORDER'))[A:B]

    every = int(os.environ.get('SAVE_EVERY', '0'))

    class Samples:  # a lazy list: the weights after A + j samples are saved before sample j is handed out
        def __len__(self):
            return B - A

        def __iter__(self):
            for j, idx in enumerate(order):
                if every and j and j % every == 0:
                    save_weights(net, os.path.join(env('OUT'), 'after%d' % (A + j)))
                x, label = train[int(idx)]
                y = torch.zeros(10, dtype=dtype); y[label] = 1
                yield (torch.tensor([int(idx)]), x.to(dtype).unsqueeze(0), y.unsqueeze(0))
    net.train(Samples(), epochs=1, samples_per_epoch=B - A)
    if every:
        save_weights(net, os.path.join(env('OUT'), 'after%d' % B))
    print('EIANN from %s on order[%d:%d]%s: test accuracy %.2f' % (env('WEIGHTS'), A, B, ' (' + patch + ')' if patch else '',
                                                                 test_accuracy(net)))
    sys.exit(0)

START, N = int(sys.argv[2]), int(sys.argv[3])
OUT = env('OUT')
lib = build_lib()
lib.cmp_create.restype = ctypes.c_void_p
for f in (lib.cmp_set_w, lib.cmp_get_w):
    f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
lib.cmp_step.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
L = lib.cmp_create(env('CONFIG').encode())
assert L, 'libbtsp could not build the network'

tf = torchvision.transforms.Compose([torchvision.transforms.ToTensor(), torchvision.transforms.Lambda(torch.flatten)])
train = torchvision.datasets.FashionMNIST(root=env('FMNIST_ROOT'), train=True, download=False, transform=tf)
order = np.load(env('ORDER'))[START:START + N]
net = ut.build_EIANN_from_config(env('CONFIG'), network_seed=66049)
names = sorted(net.projections)
for k in names:
    net.projections[k].weight.data.copy_(torch.from_numpy(np.load(os.path.join(env('WEIGHTS'), k + '.npy')).astype(np.float32)))
eiann_w = lambda: {k: net.projections[k].weight.data.numpy().copy() for k in names}


def lib_w():
    out = {}
    for k in names:
        a = np.empty(tuple(net.projections[k].weight.shape), np.float32)
        assert lib.cmp_get_w(L, k.encode(), ptr(a), *a.shape) == 0
        out[k] = a
    return out


def lib_set(w):
    for k in names:
        a = np.ascontiguousarray(w[k], dtype=np.float32)
        assert lib.cmp_set_w(L, k.encode(), ptr(a), *a.shape) == 0


lib_set(eiann_w())
rows = []


class Samples:
    def __len__(self):
        return N

    def __iter__(self):
        before = res_lib = sample = None
        t0 = time.time()
        for j, idx in enumerate(order):
            if before is not None:  # EIANN has just done step j - 1 from `before`
                res_e = eiann_w()
                rec, worst = [START + j - 1], 0.0
                for k in names:
                    d_e = res_e[k].astype(np.float64) - before[k]
                    d_l = res_lib[k].astype(np.float64) - before[k]
                    rel = np.abs(d_l - d_e).max() / max(np.abs(d_e).max(), 1e-4 * np.abs(before[k]).max(), 1e-30)
                    rec.append(rel)
                    worst = max(worst, rel)
                rows.append(rec)
                if worst > 1e-2:
                    np.savez(os.path.join(OUT, 'step_%d.npz' % (START + j - 1)), x=sample[0], y=sample[1],
                             **{'P_' + k: before[k] for k in names}, **{'E_' + k: res_e[k] for k in names},
                             **{'L_' + k: res_lib[k] for k in names})
            if mode == 'resync':
                before = eiann_w()
                lib_set(before)
            else:  # mirror: EIANN starts from libbtsp's state
                before = lib_w()
                with torch.no_grad():
                    for k in names:
                        net.projections[k].weight.data.copy_(torch.from_numpy(before[k]))
            x, label = train[int(idx)]
            x = x.numpy().astype(np.float32)
            y = np.zeros(10, np.float32); y[label] = 1.0
            assert lib.cmp_step(L, ptr(x), x.size, ptr(y), y.size) == 0
            res_lib = lib_w()
            sample = (x, y)
            if j % 1000 == 0:
                print('%s: %d steps, %.0f s' % (mode, j, time.time() - t0), flush=True)
                np.save(os.path.join(OUT, 'rows.npy'), np.array(rows))
            yield (torch.tensor([int(idx)]), torch.from_numpy(x).unsqueeze(0), torch.from_numpy(y).unsqueeze(0))


net.train(Samples(), epochs=1, samples_per_epoch=N)
np.save(os.path.join(OUT, 'rows.npy'), np.array(rows))
r = np.array(rows)[:, 1:]
print('steps compared: %d; steps above 1e-2: %d' % (len(r), int((r.max(axis=1) > 1e-2).sum())))
for j, k in enumerate(names):
    if r[:, j].max() > 0:
        print('%-24s median %.2e  p99 %.2e  max %.2e' % (k, np.median(r[:, j]), np.percentile(r[:, j], 99), r[:, j].max()))
