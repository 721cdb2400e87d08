"""Tests of the Python binding python/btsp.py (run by ctest through tests/python/run.sh).

The binding must give exactly what the C library gives: a run trained from Python equals the
same run of the `btsp` command bit for bit (weights written by --out), the golden EIANN
trajectory is reproduced as in tests/test_model_golden.c, checkpoints resume bit for bit, and
misuse raises BtspError with the library's message instead of crashing.

Environment: BTSP_LIBRARY (libbtsp_python.so), BTSP_CLI (the btsp program), BTSP_SOURCE_DIR
(the repository), BTSP_SHARED_REFERENCE (../shared/reference, for the golden test)."""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

SRC = os.environ.get("BTSP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "python"))
import btsp  # noqa: E402

DEMO = os.path.join(SRC, "configs", "demo", "tiny_btsp.yaml")
BTSP_5L = os.path.join(SRC, "configs", "eiann", "fmnist",
                       "20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_zero_bias_complete_optimized.yaml")


def write_idx(path, array):
    """An IDX file of unsigned bytes (the MNIST format: 00 00 08 ndim, big-endian dims)."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, a.ndim]))
        for d in a.shape:
            f.write(int(d).to_bytes(4, "big"))
        f.write(a.tobytes())


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def one_hot(labels, n):
    y = np.zeros((len(labels), n), dtype=np.float32)
    y[np.arange(len(labels)), labels] = 1.0
    return y


def synthetic(rng, n):
    """n 8x8 images of 10 classes: a class-specific bar plus noise, as uint8."""
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    img = rng.integers(0, 60, size=(n, 8, 8))
    for i, c in enumerate(labels):
        img[i, c % 8, :] += 150
        img[i, :, (c * 3) % 8] += 40
    return np.clip(img, 0, 255).astype(np.uint8), labels.astype(np.uint8)


class BindingTest(unittest.TestCase):
    def test_version_and_structure(self):
        self.assertRegex(btsp.version(), r"^\d+\.\d+\.\d+$")
        with btsp.Net.from_config(DEMO, seed=1) as net:
            pops = net.populations
            self.assertEqual(pops["Input.E"], 64)
            self.assertEqual(pops["Output.E"], 10)
            self.assertIn("H1E_InputE", net.projections)
            self.assertEqual(net.weights("H1E_InputE").shape, (100, 64))
            self.assertEqual((net.n_inputs, net.n_outputs, net.seed, net.sample_count), (64, 10, 1, 0))

    def test_same_run_as_the_btsp_command(self):
        """Python trains in the order `btsp train` uses and ends with the same bits."""
        cli = os.environ.get("BTSP_CLI")
        if not cli:
            self.skipTest("BTSP_CLI not set")
        rng = np.random.default_rng(5)
        tr_img, tr_lab = synthetic(rng, 500)
        te_img, te_lab = synthetic(rng, 200)
        with tempfile.TemporaryDirectory() as d:
            write_idx(os.path.join(d, "train-images-idx3-ubyte"), tr_img)
            write_idx(os.path.join(d, "train-labels-idx1-ubyte"), tr_lab)
            write_idx(os.path.join(d, "t10k-images-idx3-ubyte"), te_img)
            write_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), te_lab)
            run = os.path.join(d, "run")
            out = subprocess.run([cli, "train", DEMO, "--data", d, "--samples", "700", "--seed", "7",
                                  "--data-seed", "3", "--out", run, "--history-interval", "0", "--quiet"],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            X = tr_img.reshape(len(tr_img), -1).astype(np.float32) / np.float32(255)
            Y = one_hot(tr_lab, 10)
            # 700 samples: epoch 0 (all 500 rows) then 200 rows of epoch 1, each a seeded permutation
            order = np.concatenate([btsp.permutation(3, 0, 500), btsp.permutation(3, 1, 500)[:200]])
            with btsp.Net.from_config(DEMO, seed=7) as net:
                net.train(X, Y, order=order)
                self.assertEqual(net.sample_count, 700)
                for name in net.projections:
                    ref = np.load(os.path.join(run, name + ".npy"))
                    self.assertTrue(np.array_equal(net.weights(name), ref), name)
                Xt = te_img.reshape(len(te_img), -1).astype(np.float32) / np.float32(255)
                self.assertAlmostEqual(net.accuracy(Xt, te_lab), result["test_accuracy"], places=4)
                self.assertGreater(result["test_accuracy"], 50.0)  # the task is learnt, far above 10 %

    def test_checkpoint_resumes_bit_for_bit(self):
        rng = np.random.default_rng(1)
        img, lab = synthetic(rng, 120)
        X = img.reshape(120, -1).astype(np.float32) / np.float32(255)
        Y = one_hot(lab, 10)
        a = btsp.Net.from_config(DEMO, seed=3)
        b = btsp.Net.from_config(DEMO, seed=3)
        c = btsp.Net.from_config(DEMO, seed=99)
        a.train(X, Y)
        b.train(X[:50], Y[:50])
        image = b.save_state()
        c.load_state(image)
        self.assertEqual((c.sample_count, c.seed), (50, 3))
        c.train(X[50:], Y[50:])
        for name in a.projections:
            self.assertTrue(np.array_equal(a.weights(name), c.weights(name)), name)
        self.assertEqual(a.save_state(), c.save_state())
        for n in (a, b, c):
            n.close()

    def test_activity_and_state(self):
        rng = np.random.default_rng(2)
        img, _ = synthetic(rng, 30)
        X = img.reshape(30, -1).astype(np.float32) / np.float32(255)
        with btsp.Net.from_config(DEMO, seed=4) as net:
            acts = net.activity(X, ["H1.E", "Output.E"])
            self.assertEqual(acts["H1.E"].shape, (30, 100))
            self.assertTrue(np.array_equal(acts["Output.E"], net.evaluate(X)))
            self.assertEqual(net.state("Output.E").shape, (10,))

    def test_misuse_raises_clear_errors(self):
        with self.assertRaises(btsp.BtspError) as e:
            btsp.Net.from_config("/nonexistent/config.yaml")
        self.assertIn("/nonexistent/config.yaml", str(e.exception))
        with self.assertRaises(btsp.BtspError) as e:
            btsp.Net.from_yaml("layer_config: {Input: {E: {size: -3}}}")
        self.assertIn("projection_config", str(e.exception))
        net = btsp.Net.from_config(DEMO, seed=1)
        before = net.save_state()
        with self.assertRaises(btsp.BtspError) as e:
            net.train(np.zeros((4, 63)), np.zeros((4, 10)))
        self.assertEqual(e.exception.status, "BTSP_E_SHAPE")
        self.assertIn("(4, 63)", str(e.exception))
        with self.assertRaises(btsp.BtspError) as e:
            net.train(np.zeros((4, 64)), np.zeros((4, 10)), order=[0, 1, 9])
        self.assertEqual(e.exception.status, "BTSP_E_RANGE")
        with self.assertRaises(btsp.BtspError) as e:
            net.weights("NoSuchProjection")
        self.assertEqual(e.exception.status, "BTSP_E_NOT_FOUND")
        with self.assertRaises(btsp.BtspError) as e:
            net.set_weights("H1E_InputE", np.zeros((64, 100)))
        self.assertEqual(e.exception.status, "BTSP_E_SHAPE")
        with self.assertRaises(btsp.BtspError) as e:
            net.load_state(b"not an image")
        self.assertEqual(e.exception.status, "BTSP_E_FORMAT")
        with self.assertRaises(btsp.BtspError) as e:
            net.state("Output.E", "velocity")
        self.assertEqual(e.exception.status, "BTSP_E_INVALID_ARG")
        # arguments of the wrong type are BtspError too, never AttributeError or TypeError
        for call in (lambda: net.weights(3), lambda: net.state(None), lambda: net.load_state("abc"),
                     lambda: net.state("H1.E", ["x"]), lambda: btsp.Net.from_config(3),
                     lambda: btsp.Net.from_yaml(5),
                     lambda: net.load_state(5), lambda: net.train(np.zeros((4, 64)), np.zeros((4, 10)), samples=True)):
            with self.assertRaises(btsp.BtspError) as e:
                call()
            self.assertEqual(e.exception.status, "BTSP_E_INVALID_ARG")
        X = np.zeros((4, 64), np.float32)
        Y = np.zeros((4, 10), np.float32)
        for order, samples, status in [([0, 1], 3, "BTSP_E_RANGE"),              # more samples than the order
                                       (np.zeros(10, np.uint32)[:2], 10, "BTSP_E_RANGE"),
                                       ([2**32 + 1], None, "BTSP_E_RANGE"),       # not a row
                                       ([-1], None, "BTSP_E_RANGE"),
                                       ([0.9, 2.7], None, "BTSP_E_INVALID_ARG"),  # not integers
                                       ([[0, 1]], None, "BTSP_E_INVALID_ARG"),
                                       (None, 5, "BTSP_E_RANGE"),                 # more samples than rows
                                       (None, 1.5, "BTSP_E_INVALID_ARG")]:
            with self.assertRaises(btsp.BtspError) as e:
                net.train(X, Y, order=order, samples=samples)
            self.assertEqual(e.exception.status, status, (order, samples))
        bad = X.copy()
        bad[1, 3] = np.nan
        for args, status in [((bad, Y), "BTSP_E_RANGE"), (([["a"] * 64] * 4, Y), "BTSP_E_INVALID_ARG"),
                             (([[None] * 64] * 4, Y), "BTSP_E_INVALID_ARG")]:
            with self.assertRaises(btsp.BtspError) as e:
                net.train(*args)
            self.assertEqual(e.exception.status, status)
        for seed in (-1, 2**64, 1.5):
            with self.assertRaises(btsp.BtspError):
                btsp.Net.from_config(DEMO, seed=seed)
        with self.assertRaises(btsp.BtspError):
            btsp.permutation(1, 0, -1)
        with self.assertRaises(btsp.BtspError) as e:
            net.accuracy(X, [0, 1])  # labels of the wrong length
        self.assertEqual(e.exception.status, "BTSP_E_SHAPE")
        with self.assertRaises(TypeError):
            btsp.Net(net.handle)  # a second owner of the handle would free it twice
        self.assertEqual(net.save_state(), before)  # nothing changed by the refused calls
        net.close()
        with self.assertRaises(btsp.BtspError) as e:
            net.evaluate(np.zeros((1, 64)))
        self.assertEqual(e.exception.status, "BTSP_E_STATE")

    def test_parameters_in_and_out(self):
        """set_weights / set_bias / save_weights / load_weights / from_yaml do what they say."""
        rng = np.random.default_rng(3)
        img, lab = synthetic(rng, 40)
        X = img.reshape(40, -1).astype(np.float32) / np.float32(255)
        Y = one_hot(lab, 10)
        with open(DEMO) as f:
            text = f.read()
        with btsp.Net.from_config(DEMO, seed=8) as a, btsp.Net.from_yaml(text, seed=8) as b:
            for n in a.projections:  # the same config from text: the same initial weights
                self.assertTrue(np.array_equal(a.weights(n), b.weights(n)), n)
            W = np.full((100, 64), 0.01, dtype=np.float32)
            a.set_weights("H1E_InputE", W)
            self.assertTrue(np.array_equal(a.weights("H1E_InputE"), W))
            self.assertFalse(np.array_equal(a.evaluate(X), b.evaluate(X)))
            a.train(X, Y, samples=5)
            self.assertEqual(a.sample_count, 5)
            with tempfile.TemporaryDirectory() as d:
                a.save_weights(d)
                self.assertTrue(os.path.exists(os.path.join(d, "H1E_InputE.npy")))
                b.load_weights(d, require_all=True)
                for n in a.projections:
                    self.assertTrue(np.array_equal(a.weights(n), b.weights(n)), n)
                os.remove(os.path.join(d, "H1E_InputE.npy"))
                with self.assertRaises(btsp.BtspError) as e:
                    b.load_weights(d, require_all=True)
                self.assertEqual(e.exception.status, "BTSP_E_NOT_FOUND")
                b.load_weights(d)  # the others are enough without require_all
        # biases: the demo network with one on H1.E (no shipped config has any)
        biased = text.replace("            size: 100\n            activation: relu\n",
                              "            size: 100\n            activation: relu\n            include_bias: true\n", 1)
        self.assertNotEqual(biased, text)
        with btsp.Net.from_yaml(biased, seed=8) as net:
            b = np.linspace(-0.1, 0.1, 100, dtype=np.float32)
            net.set_bias("H1.E", b)
            self.assertTrue(np.array_equal(net.state("H1.E", "bias"), b))
            with self.assertRaises(btsp.BtspError) as e:
                net.set_bias("Output.E", np.zeros(10))  # no bias there
            self.assertEqual(e.exception.status, "BTSP_E_STATE")

    def test_receptive_fields(self):
        """receptive_fields() reports EIANN's draws for the shipped maskRF config (rng="torch"),
        the weights keep only each unit's patch, and projections without fields give None."""
        path = os.path.join(SRC, "configs", "eiann", "mnist",
                            "20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized_maskRF.yaml")
        with btsp.Net.from_config(path, seed=66049, rng="torch") as net:
            rf = net.receptive_fields("H1E_InputE")
            self.assertEqual((rf["side"], rf["channels"], rf["height"], rf["width"]), (9, 1, 28, 28))
            self.assertEqual(rf["norm_scale"], 9.6)
            self.assertEqual(rf["corners"].shape, (500, 2))
            self.assertEqual(rf["corners"][:3].tolist(), [[13, 4], [0, 7], [7, 11]])  # EIANN's, as test_model_rf.c
            W = net.weights("H1E_InputE").reshape(500, 28, 28)
            for u, (r, c) in enumerate(rf["corners"]):
                inside = np.zeros((28, 28), bool)
                inside[r:r + 9, c:c + 9] = True
                self.assertFalse(W[u][~inside].any(), u)
                self.assertAlmostEqual(float(np.abs(W[u]).sum(dtype=np.float64)), 9.6, places=5)
            self.assertIsNone(net.receptive_fields("H2E_H1E"))
            with self.assertRaises(btsp.BtspError):
                net.receptive_fields("NoSuch_Proj")

    def test_rng_state_and_activity_contents(self):
        """rng='torch' changes the draws; state() and activity() return the named variable."""
        with btsp.Net.from_config(DEMO, seed=5) as a, btsp.Net.from_config(DEMO, seed=5, rng="torch") as b:
            self.assertFalse(np.array_equal(a.weights("H1E_InputE"), b.weights("H1E_InputE")))
            rng = np.random.default_rng(4)
            img, _ = synthetic(rng, 3)
            X = img.reshape(3, -1).astype(np.float32) / np.float32(255)
            out = a.evaluate(X)
            # the network is left as after the last row: its output activity is that row's output
            self.assertTrue(np.array_equal(a.state("Output.E", "activity"), out[-1]))
            self.assertFalse(np.array_equal(a.state("Output.E", "soma_state"), np.zeros(10, np.float32)))
            acts = a.activity(X[-1:], ["H1.E"])
            self.assertEqual(list(acts), ["H1.E"])
            one = a.activity(X[-1:], "H1.E")  # one name, not a list of its characters
            self.assertEqual(list(one), ["H1.E"])
            self.assertTrue(np.array_equal(one["H1.E"], acts["H1.E"]))
            self.assertTrue(np.array_equal(acts["H1.E"][0], a.state("H1.E", "activity")))
            got = a.state("H1.E", "activity")
            got[:] = 7.0  # a copy: the network is not changed through it
            self.assertFalse(np.array_equal(a.state("H1.E", "activity"), got))
        ref = os.environ.get("BTSP_SHARED_REFERENCE") or os.path.join(SRC, "..", "shared", "reference")
        init = os.path.join(ref, "golden", "fmnist-btsp5L-img0", "init")
        if os.path.isdir(init):  # EIANN's own initial weights for seed 66049, bit for bit
            with btsp.Net.from_config(BTSP_5L, seed=66049, rng="torch") as net:
                for n in net.projections:
                    self.assertTrue(np.array_equal(net.weights(n), np.load(os.path.join(init, n + ".npy"))), n)

    def test_binary_kernels(self):
        """Bit packing round trips; store and read-out equal plain NumPy on unpacked bits; the
        flip's weight density after M items follows (1 - (1 - f_p f_q)^M) / 2."""
        rng = np.random.default_rng(9)
        for n in (1, 63, 64, 65, 130):
            b = rng.random((3, n)) < 0.4
            self.assertTrue(np.array_equal(btsp.unpack_bits(btsp.pack_bits(b), n), b))
            self.assertTrue(np.array_equal(btsp.unpack_bits(btsp.pack_bits(b[0]), n), b[0]))
        x = btsp.bernoulli_bits(1, 2, 3, 130, 0.3)
        self.assertEqual(x.dtype, np.uint64)
        self.assertEqual(len(x), 3)
        rows, n = 70, 130
        Wb = rng.random((rows, n)) < 0.3
        Mb = rng.random((rows, n)) < 0.6
        W, M = btsp.pack_bits(Wb), btsp.pack_bits(Mb)
        for rule in (btsp.FLIP, btsp.SET):
            Wr, ref = W.copy(), Wb.copy()
            for item in range(5):
                xb = btsp.unpack_bits(btsp.bernoulli_bits(4, 1, item * n, n, 0.2), n)
                pb = btsp.unpack_bits(btsp.bernoulli_bits(4, 2, item * rows, rows, 0.3), rows)
                btsp.binary_store(rule, Wr, btsp.pack_bits(xb), btsp.pack_bits(pb), mask=M)
                change = pb[:, None] & xb[None, :] & Mb
                ref = (ref ^ change) if rule == btsp.FLIP else (ref | change)
                self.assertTrue(np.array_equal(btsp.unpack_bits(Wr, n), ref))
                h = btsp.binary_input(Wr, btsp.pack_bits(xb), mask=M)
                self.assertTrue(np.array_equal(h, (ref & Mb & xb[None, :]).sum(axis=1)))
        with self.assertRaises(btsp.BtspError):
            btsp.binary_store(btsp.FLIP, W.astype(np.int64), W[0], btsp.pack_bits(np.zeros(rows)))
        with self.assertRaises(btsp.BtspError):
            btsp.binary_input(W, W[0][:1])
        with self.assertRaises(btsp.BtspError):  # a list would be copied: the store would be lost
            btsp.binary_store(btsp.FLIP, W.tolist(), W[0], btsp.pack_bits(np.zeros(rows)))
        with self.assertRaises(btsp.BtspError):
            btsp.binary_store(btsp.FLIP, np.asfortranarray(W), W[0], btsp.pack_bits(np.zeros(rows)))
        with self.assertRaises(btsp.BtspError):
            btsp.unpack_bits(np.array([3.7]), 4)
        with self.assertRaises(btsp.BtspError):
            btsp.pack_bits(np.array(["a", "b"]))
        self.assertEqual(btsp.pack_bits([]).size, 0)
        self.assertEqual(btsp.pack_bits(np.zeros((3, 0), bool)).shape, (3, 0))
        self.assertEqual(btsp.unpack_bits(np.zeros((0, 2), np.uint64), 5).shape, (0, 5))
        # closed form of the flip's density (a small one-shot memory, as examples/binary_cam.c)
        n_in, n_mem, fp, fq, items = 512, 512, 0.05, 0.1, 150
        Wf = np.zeros((n_mem, btsp.pack_bits(np.zeros(n_in)).size), dtype=np.uint64)
        for k in range(items):
            btsp.binary_store(btsp.FLIP, Wf, btsp.bernoulli_bits(7, 1, k * n_in, n_in, fp),
                              btsp.bernoulli_bits(7, 2, k * n_mem, n_mem, fq / 2))
        density = btsp.unpack_bits(Wf, n_in).mean()
        self.assertAlmostEqual(density, (1 - (1 - fp * fq) ** items) / 2, delta=0.01)

    def test_wd_kernels(self):
        """The Milstein 2021 rule from Python: the documented defaults, one step equal to the
        formula, potentiation below and depression above the fixed point."""
        p = btsp.wd_default()
        self.assertEqual((p.k_pot, p.k_dep, p.tau_et, p.tau_is), (1.11, 0.425, 1.664, 0.437))
        self.assertAlmostEqual(p.w_max, 4.68)
        w = np.array([0.0, 0.3, 0.9, 0.5], np.float32)
        et = np.array([0.8, 0.8, 0.8, 0.0], np.float32)
        dw = btsp.wd_rate(p, w, et, 0.9, 0.01)
        for j in range(4):
            s = float(et[j]) * float(np.float32(0.9))
            want = 0.01 * (p.k_pot * btsp.q(p.q_pot, s) * (1 - float(w[j])) - p.k_dep * btsp.q(p.q_dep, s) * float(w[j]))
            self.assertEqual(dw[j], np.float32(want))
        self.assertEqual(dw[3], 0.0)
        ws = btsp.wd_fixed_point(p, 0.5)
        d = btsp.wd_rate(p, [ws - 0.1, ws + 0.1], [0.5, 0.5], 1.0, 0.01)
        self.assertTrue(d[0] > 0 > d[1])
        self.assertTrue(np.isnan(btsp.wd_fixed_point(p, 0.0)))
        with self.assertRaises(btsp.BtspError):
            btsp.wd_rate(p, [0.5], [0.0], float("nan"), 0.01)

    def test_bittner_kernels(self):
        """The Bittner 2017 kernel from Python: defaults, the closed form, a run of steps equal to
        the pairwise sum written in NumPy, and misuse refused."""
        p = btsp.bittner_default()
        self.assertEqual((p.tau_before, p.tau_after, p.amp_before, p.amp_after), (1.31, 0.69, 1.0, 1.15))
        d = np.array([-2.62, -0.5, 0.0, 0.69, 3.0])
        ref = np.where(d < 0, np.exp(d / 1.31), 1.15 * np.exp(-d / 0.69))
        np.testing.assert_allclose(btsp.bittner_kernel(p, d), ref, rtol=1e-15)
        dt, steps = 0.01, 700
        rng = np.random.default_rng(4)
        x = (rng.random((steps, 3)) < 0.05).astype(np.float32)
        x[:, 2] = 0.3  # a constant rate x dt
        plateau = np.zeros(steps, bool)
        plateau[[200, 450]] = True
        x[200, 0] = 1.0  # a spike in a plateau step: d = 0
        w = btsp.bittner_run(p, x, dt, plateau)
        t = np.arange(steps) * dt
        pairs = sum(btsp.bittner_kernel(p, t - t[k])[:, None] * x for k in np.nonzero(plateau)[0])
        np.testing.assert_allclose(w, pairs.sum(axis=0), rtol=2e-5)
        q = btsp.bittner_default()
        q.tau_after = 0.0
        nan_x = x.copy()
        nan_x[0, 0] = np.nan
        for bad in ((p, -x, dt, plateau), (p, x, 0.0, plateau), (p, x, dt, plateau[:-1]), (q, x, dt, plateau),
                    (p, nan_x, dt, plateau), (p, x[:, 0], dt, plateau), (p, x, dt, plateau.astype(float)),
                    (btsp.cs_default(), x, dt, plateau)):  # the last: another model's parameters
            with self.assertRaises(btsp.BtspError):
                btsp.bittner_run(*bad)
        for bad in ((q, 0.5), (p, "soon")):
            with self.assertRaises(btsp.BtspError):
                btsp.bittner_kernel(*bad)

    def test_etis_kernels(self):
        """The linear ET x IS form from Python: defaults, exact steps equal to the closed-form kernel,
        misuse refused."""
        p = btsp.etis_default()
        self.assertEqual((p.local_rise, p.local_decay, p.global_rise, p.global_decay, p.plateau_dur, p.gain),
                         (0.0053, 0.584, 0.13, 0.268, 0.3, 1.0))
        dt, steps = 0.005, 1600
        x = np.zeros((steps, 3), np.float32)
        x[[300, 420, 500], [0, 1, 2]] = 1.0  # before, at and inside the plateau
        plateau = np.zeros(steps, bool)
        plateau[420:480] = True  # 0.3 s from step 420
        w = btsp.etis_run(p, x, dt, plateau)
        np.testing.assert_allclose(w, btsp.etis_kernel(p, np.array([-120, 0, 80]) * dt), rtol=1e-5)
        q = btsp.etis_default()
        q.local_rise = 1.0  # longer than its decay
        for bad in ((p, -x, dt, plateau), (p, x, -1.0, plateau), (p, x, dt, plateau[1:]), (q, x, dt, plateau),
                    (btsp.bittner_default(), x, dt, plateau)):
            with self.assertRaises(btsp.BtspError):
                btsp.etis_run(*bad)
        with self.assertRaises(btsp.BtspError):
            btsp.etis_kernel(q, 0.1)

    def test_cs_kernels(self):
        """Cone & Shouval from Python: the defaults, one lap of traces equal to the exact step
        written in NumPy, the end-of-lap update, and the geometric approach to the fixed point."""
        p = btsp.cs_default()
        self.assertEqual((p.tau_p, p.tau_d, p.eta_p, p.eta_d, p.tmax_p, p.tmax_d, p.tau_is, p.is_peak, p.eta_w),
                         (0.2, 1.5, 0.2, 200.0, 2.2, 2.0, 0.4, 1.0, 0.6))
        dt, steps = 0.002, 1500
        t = np.arange(steps) * dt
        rates = np.exp(-((t[:, None] - np.array([0.8, 1.5, 2.4])[None, :]) / 0.4) ** 2).astype(np.float32)
        inst = np.where(t >= 1.5, np.exp(-(t - 1.5) / p.tau_is), 0.0)
        ip, id_ = btsp.cs_lap_integrals(p, rates, dt, inst)
        tp, td = np.zeros(3, np.float32), np.zeros(3, np.float32)
        rp, rd = np.zeros(3), np.zeros(3)
        for s in range(steps):
            r = rates[s].astype(np.float64)
            for tr, eta, tmax, tau in ((tp, p.eta_p, p.tmax_p, p.tau_p), (td, p.eta_d, p.tmax_d, p.tau_d)):
                a = 1 + eta * r
                inf = eta * r * tmax / a
                tr[:] = (inf + (tr - inf) * np.exp(-a * dt / tau)).astype(np.float32)
            rp += dt * inst[s] * tp
            rd += dt * inst[s] * td
        np.testing.assert_allclose(ip, rp, rtol=1e-5)
        np.testing.assert_allclose(id_, rd, rtol=1e-5)
        self.assertTrue(np.all(ip > 0) and np.all(id_ > 0))
        w0 = np.array([0.0, 0.5, 1.0], np.float32)
        w = btsp.cs_apply(p, ip, id_, w0)
        np.testing.assert_array_equal(w, np.maximum(w0 + p.eta_w * (ip * (1 - w0) - id_ * w0), 0).astype(np.float32))
        ws = btsp.cs_fixed_point(ip, id_)
        f = 1 - p.eta_w * (ip + id_)
        for n in range(2, 6):
            w = btsp.cs_apply(p, ip, id_, w)
            np.testing.assert_allclose(w, ws + (w0 - ws) * f ** n, atol=1e-6)
        self.assertTrue(np.isnan(btsp.cs_fixed_point(0.0, 0.0)))
        with self.assertRaises(btsp.BtspError):
            btsp.cs_lap_integrals(p, -rates, dt, inst)
        with self.assertRaises(btsp.BtspError):
            btsp.cs_lap_integrals(p, rates, 0.0, inst)
        with self.assertRaises(btsp.BtspError):
            btsp.cs_lap_integrals(p, rates, dt, inst[:-1])
        with self.assertRaises(btsp.BtspError):  # another model's parameters
            btsp.cs_lap_integrals(btsp.wd_default(), rates, dt, inst)
        with self.assertRaises(btsp.BtspError):
            btsp.cs_apply(p, ip, id_, w0[:2])
        with self.assertRaises(btsp.BtspError):
            btsp.cs_fixed_point([1.0, 2.0], [1.0, 2.0, 3.0])

    def test_lr_kernels(self):
        """Li & Roxin from Python: the fitted parameters, the refusal of other speeds, the
        induction equal to its formula, and the ring store equal to its formula in NumPy."""
        p = btsp.lr_default(25, 187)
        self.assertEqual((p.pot.nu, p.pot.mu, p.pot.sigma, p.pot.skew), (3.5, 0.685, 1.65, -1.61))
        self.assertEqual((p.dep.nu, p.dep.mu, p.dep.sigma, p.dep.skew), (5.0, 1.75, 3.65, -5.35))
        self.assertEqual((p.amp_pot, p.amp_dep, p.period), (2.365, 2.57, 187 / 25))
        with self.assertRaises(btsp.BtspError):
            btsp.lr_default(30, 187)
        self.assertAlmostEqual(btsp.student_t_cdf(1.0, 1.0), 0.75, places=15)
        cauchy = btsp.SkewT(1.0, 0.0, 1.0, 0.0)
        np.testing.assert_allclose(btsp.skew_t_pdf(cauchy, [0.0, 1.0]), [1 / np.pi, 0.5 / np.pi], rtol=1e-14)
        t_in = np.linspace(0.1, 7.4, 30)
        w0 = np.full(30, 0.2, np.float32)
        w = btsp.lr_induction(p, w0, t_in, [3.6, 6.0])
        for j in range(30):
            k = [btsp.lr_kernels(p, t_in[j] - tp) for tp in (3.6, 6.0)]
            fp, fd = sum(a for a, _ in k), sum(b for _, b in k)
            w0j = float(w0[j])  # the float32 weight in double, as the kernel
            want = np.clip(w0j + p.amp_pot * fp * (1 - w0j) - p.amp_dep * fd * w0j, 0, 1)
            self.assertEqual(w[j], np.float32(want))
        self.assertTrue(np.array_equal(w0, np.full(30, 0.2, np.float32)))  # input not changed
        k = np.array([[sum(v) for v in zip(*(btsp.lr_kernels(p, t - tp) for tp in (3.6, 6.0)))] for t in t_in])
        np.testing.assert_array_equal(btsp.lr_apply(p, w0, k[:, 0], k[:, 1]), w)
        self.assertTrue(w.max() > 0.5)
        W = np.random.default_rng(3).random((6, 6)).astype(np.float32)
        W0 = W.copy()
        idx, ph = np.array([4, 0, 2]), np.array([0.3, -1.0, 2.5], np.float32)
        btsp.lr_ring_store(W, idx, ph, 0.2, 0.1)
        ref = W0.copy().astype(np.float64)
        c = np.cos(ph[:, None].astype(np.float64) - ph[None, :].astype(np.float64))
        blk = ref[np.ix_(idx, idx)]
        ref[np.ix_(idx, idx)] = np.clip(blk + 0.2 * (1 - blk) * (1 + c) - 0.1 * blk * (1 - c), 0, 1)
        np.testing.assert_array_equal(W, ref.astype(np.float32))
        self.assertFalse(np.array_equal(W, W0))
        m, v = btsp.lr_ring_moments(0.06, 0.1)
        self.assertAlmostEqual(m, 0.375, places=15)
        self.assertTrue(0 < v < 0.02)
        for bad in (W.tolist(), W.astype(np.float64), np.asfortranarray(W[:, :5])):
            with self.assertRaises(btsp.BtspError):
                btsp.lr_ring_store(bad, idx, ph, 0.2, 0.1)
        with self.assertRaises(btsp.BtspError):
            btsp.lr_ring_store(W, [1, 1], [0.0, 0.0], 0.2, 0.1)  # not distinct
        with self.assertRaises(btsp.BtspError):
            btsp.lr_ring_store(W, [6], [0.0], 0.2, 0.1)  # outside the matrix
        with self.assertRaises(btsp.BtspError):
            btsp.lr_ring_store(W, [1.0], [0.0], 0.2, 0.1)  # not integer
        with self.assertRaises(btsp.BtspError):
            btsp.lr_ring_store(W, idx, ph, float("nan"), 0.1)
        with self.assertRaises(btsp.BtspError):
            btsp.lr_induction(p, w0, t_in[:5], 3.6)
        with self.assertRaises(btsp.BtspError):
            btsp.lr_apply(p, w0, k[:5, 0], k[:5, 1])
        with self.assertRaises(btsp.BtspError):
            btsp.lr_kernels(btsp.cs_default(), 0.0)
        self.assertTrue(np.isnan(btsp.student_t_cdf(1.0, 0.0)))
        self.assertTrue(np.isnan(btsp.skew_t_pdf(btsp.SkewT(5.0, 0.0, -1.0, 0.0), 0.0)))
        self.assertTrue(all(np.isnan(v) for v in btsp.lr_ring_moments(0.0, 0.0)))

    def test_golden_eiann_trajectory(self):
        """EIANN's weights after 1-3 steps from its initial weights (as test_model_golden.c)."""
        ref = os.environ.get("BTSP_SHARED_REFERENCE") or os.path.join(SRC, "..", "shared", "reference")
        golden = os.path.join(ref, "golden", "fmnist-btsp5L-img0")
        data = "/usr/share/datasets/fashion-mnist"
        if not os.path.isdir(golden):
            self.skipTest(f"golden data {golden} not found")
        if not os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
            self.skipTest(f"Fashion-MNIST not found in {data} (apt-get install dataset-fashion-mnist)")
        x = read_idx(os.path.join(data, "train-images-idx3-ubyte.gz"))[0].reshape(1, -1)
        label = int(read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz"))[0])
        X = x.astype(np.float32) / np.float32(255)
        Y = one_hot([label], 10)
        with btsp.Net.from_config(BTSP_5L, seed=66049) as net:
            net.load_weights(os.path.join(golden, "init"), require_all=True)
            init = {n: net.weights(n) for n in net.projections}
            for step in (1, 2, 3):
                net.train(X, Y)
                for n in net.projections:
                    want = np.load(os.path.join(golden, f"after{step}", n + ".npy"))
                    change = np.max(np.abs(want - init[n]))
                    tol = max(1e-3 * change, 4e-7 * np.max(np.abs(want)))
                    diff = np.max(np.abs(net.weights(n) - want))
                    self.assertLessEqual(diff, tol, f"step {step}, {n}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
