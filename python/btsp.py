"""libbtsp from Python: a thin ctypes binding of the C library, with NumPy arrays.

    import numpy as np, btsp
    net = btsp.Net.from_config("configs/eiann/fmnist/..._BTSP_config_5L_zero_bias_complete_optimized.yaml",
                               seed=66049)
    net.train(X, Y)                      # X: n x 784 float32, Y: n x 10 (one-hot), online, in order
    out = net.evaluate(X_test)           # n x 10 final output activities
    W = net.weights("H1E_InputE")        # copy, post x pre
    state = net.save_state()             # bytes: checkpoint (weights, traces, counters)

Every call goes straight to the C library (libbtsp_python.so: the core and libbtsp_io in one
module, built with the library), so results are bit for bit those of C programs and of the
`btsp` command with the same inputs. Errors raise BtspError with the library's message; arrays
are checked for shape before any call, and converted to C-contiguous float32 (a copy only when
needed). The C API is documented in include/btsp/btsp.h; this module follows its names.

The module finds the library through the environment variable BTSP_LIBRARY (a path), else
next to this file (the installed layout), else in the repository's build directories
(build/release, build/test, build/dev, build/clang, build; sanitizer builds are skipped), else
through the system's library path; it refuses a library of another minor version.

A Net is not thread-safe: calls on one network must not overlap (the C library's rule); separate
networks may be used from separate threads (each call releases the GIL).
"""
import ctypes
import ctypes.util
import operator
import os

import numpy as np

__all__ = ["BtspError", "Net", "permutation", "library_path", "version", "pack_bits", "unpack_bits",
           "bernoulli_bits", "binary_store", "binary_input", "FLIP", "SET", "QParams", "WDParams", "q",
           "wd_default", "wd_rate", "wd_fixed_point", "CSParams", "cs_default", "cs_lap_integrals", "cs_apply",
           "cs_fixed_point", "SkewT", "LRParams", "student_t_cdf", "skew_t_pdf", "lr_default", "lr_kernels",
           "lr_induction", "lr_apply", "lr_ring_store", "lr_ring_moments", "BittnerParams", "bittner_default",
           "bittner_kernel", "bittner_run", "ETISParams", "etis_default", "etis_kernel", "etis_run"]
__version__ = "0.2.0"  # the C library's version this binding was written for (same major.minor)

_HERE = os.path.dirname(os.path.abspath(__file__))


def library_path():
    """Path of the libbtsp_python shared module this binding loads (see the module docstring)."""
    env = os.environ.get("BTSP_LIBRARY")
    if env:
        return env
    installed = os.path.join(_HERE, "libbtsp_python.so")
    if os.path.exists(installed):
        return installed
    # a source checkout: the most recently built of the build directories (an older one may lack
    # functions this btsp.py calls)
    builds = [os.path.join(_HERE, "..", "build", sub, "src", "libbtsp_python.so")
              for sub in ("release", "test", "dev", "clang", "")]
    builds = [b for b in builds if os.path.exists(b)]
    if builds:
        return os.path.normpath(max(builds, key=os.path.getmtime))
    found = ctypes.util.find_library("btsp_python")
    if found:
        return found
    raise OSError("libbtsp_python.so not found: build libbtsp (cmake --build build/release) or set BTSP_LIBRARY")


_lib = ctypes.CDLL(library_path())
_lib.btsp_version_string.restype = ctypes.c_char_p
if _lib.btsp_version_string().decode().split(".")[:2] != __version__.split(".")[:2]:
    raise ImportError(f"btsp.py {__version__} cannot use libbtsp {_lib.btsp_version_string().decode()} "
                      f"({library_path()}): rebuild, or point BTSP_LIBRARY at a matching libbtsp_python.so")
_p = ctypes.c_void_p
_sz = ctypes.c_size_t
_st = ctypes.c_int
_fptr = ctypes.POINTER(ctypes.c_float)
_u32ptr = ctypes.POINTER(ctypes.c_uint32)


def _fn(name, restype, *argtypes):
    try:
        f = getattr(_lib, name)
    except AttributeError:
        raise ImportError(f"{library_path()} has no {name}: it was built from older sources than this btsp.py; "
                          "rebuild it (cmake --build build/release --target btsp_python) or point BTSP_LIBRARY "
                          "at a current libbtsp_python.so") from None
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_status_name = _fn("btsp_status_name", ctypes.c_char_p, ctypes.c_int)
_version_string = _fn("btsp_version_string", ctypes.c_char_p)
_config_load = _fn("btsp_config_load", _st, ctypes.c_char_p, _p, ctypes.POINTER(_p), ctypes.c_char_p, _sz)
_config_load_string = _fn("btsp_config_load_string", _st, ctypes.c_char_p, _sz, ctypes.c_char_p, _p,
                          ctypes.POINTER(_p), ctypes.c_char_p, _sz)
_net_destroy = _fn("btsp_net_destroy", None, _p)
_net_errmsg = _fn("btsp_net_errmsg", ctypes.c_char_p, _p)
_net_seed = _fn("btsp_net_seed", _st, _p, ctypes.c_uint64)
_net_get_seed = _fn("btsp_net_get_seed", ctypes.c_uint64, _p)
_net_set = _fn("btsp_net_set", _st, _p, ctypes.c_int, ctypes.c_double)
_net_finalize = _fn("btsp_net_finalize", _st, _p)
_net_is_finalized = _fn("btsp_net_is_finalized", ctypes.c_int, _p)
_net_train = _fn("btsp_net_train", _st, _p, _fptr, _fptr, _sz, _sz, _sz, _u32ptr, _sz)
_net_evaluate = _fn("btsp_net_evaluate", _st, _p, _fptr, _sz, _sz, _fptr, _sz)
_net_evaluate_activity = _fn("btsp_net_evaluate_activity", _st, _p, _fptr, _sz, _sz, ctypes.POINTER(_fptr),
                             ctypes.POINTER(_fptr), _sz)
_net_sample_count = _fn("btsp_net_sample_count", ctypes.c_uint64, _p)
_net_last_loss = _fn("btsp_net_last_loss", ctypes.c_double, _p)
_net_input = _fn("btsp_net_input", _p, _p)
_net_output = _fn("btsp_net_output", _p, _p)
_net_pop_count = _fn("btsp_net_pop_count", _sz, _p)
_net_pop_at = _fn("btsp_net_pop_at", _p, _p, _sz)
_net_proj_count = _fn("btsp_net_proj_count", _sz, _p)
_net_proj_at = _fn("btsp_net_proj_at", _p, _p, _sz)
_net_find_proj = _fn("btsp_net_find_proj", _st, _p, ctypes.c_char_p, ctypes.POINTER(_p))
_net_find_pop = _fn("btsp_net_find_pop", _st, _p, ctypes.c_char_p, ctypes.POINTER(_p))
_net_state_size = _fn("btsp_net_state_size", _sz, _p)
_net_save_state = _fn("btsp_net_save_state", _st, _p, ctypes.c_char_p, _sz, ctypes.POINTER(_sz))
_net_load_state = _fn("btsp_net_load_state", _st, _p, ctypes.c_char_p, _sz)
_pop_size = _fn("btsp_pop_size", _sz, _p)
_pop_full_name = _fn("btsp_pop_full_name", ctypes.c_char_p, _p)
_pop_state = _fn("btsp_pop_state", _st, _p, ctypes.c_int, ctypes.POINTER(_fptr), ctypes.POINTER(_sz))
_pop_set_bias = _fn("btsp_pop_set_bias", _st, _p, _fptr, _sz)
_proj_name = _fn("btsp_proj_name", ctypes.c_char_p, _p)
_proj_weights = _fn("btsp_proj_weights", _st, _p, ctypes.POINTER(_fptr), ctypes.POINTER(_sz), ctypes.POINTER(_sz))
_proj_get_rf = _fn("btsp_proj_get_receptive_fields", _st, _p, ctypes.POINTER(_sz), ctypes.POINTER(_sz),
                   ctypes.POINTER(_sz), ctypes.POINTER(_sz), ctypes.POINTER(ctypes.c_double))
_proj_rf = _fn("btsp_proj_receptive_field", _st, _p, _sz, ctypes.POINTER(_sz), ctypes.POINTER(_sz))
_proj_set_weights = _fn("btsp_proj_set_weights", _st, _p, _fptr, _sz, _sz)
_io_save_weights = _fn("btsp_io_save_weights", _st, _p, ctypes.c_char_p, ctypes.c_char_p, _sz)
_io_load_weights = _fn("btsp_io_load_weights", _st, _p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, _sz)
_k_permutation = _fn("btsp_k_permutation", None, ctypes.c_uint64, ctypes.c_uint64, _u32ptr, _sz)
_u64ptr = ctypes.POINTER(ctypes.c_uint64)
_k_bernoulli_bits = _fn("btsp_k_bernoulli_bits", None, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, _sz,
                        ctypes.c_double, _u64ptr)
_k_binary_store = _fn("btsp_k_binary_store", None, ctypes.c_int, _sz, _sz, _u64ptr, _u64ptr, _u64ptr, _u64ptr)
_k_binary_input = _fn("btsp_k_binary_input", None, _sz, _sz, _u64ptr, _u64ptr, _u64ptr, _u32ptr)

_NET_CHECK_FINITE = 104  # BTSP_NET_CHECK_FINITE
_NET_INIT_RNG = 106  # BTSP_NET_INIT_RNG
_VARS = {  # btsp_var
    "activity": 0, "prev_activity": 1, "soma_state": 2, "forward_activity": 3, "forward_prev": 4,
    "forward_dend": 5, "dend_state": 6, "plateau": 7, "nudge": 8, "bias": 9,
}


class BtspError(RuntimeError):
    """A libbtsp call failed. `status` is the C status name (e.g. "BTSP_E_SHAPE")."""

    def __init__(self, status, message):
        self.status = status
        super().__init__(f"{status}: {message}" if message else status)


def version():
    """The C library's version string, e.g. "0.2.0"."""
    return _version_string().decode()


def _name(st):
    return _status_name(st).decode()


def _floats(a, shape, what, finite=True, dtype=np.float32):
    """a as a C-contiguous `dtype` (float32) array of `shape` (None entries: any), or a clear
    error (also for values that are not real numbers, and, with finite, NaN or infinite ones)."""
    src = np.asarray(a)
    if src.dtype.kind not in "biuf":
        raise BtspError("BTSP_E_INVALID_ARG", f"{what}: values of type {src.dtype}, expected real numbers")
    arr = np.ascontiguousarray(src, dtype=dtype)
    if arr.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, arr.shape)):
        want = " x ".join("*" if s is None else str(s) for s in shape)
        raise BtspError("BTSP_E_SHAPE", f"{what}: shape {arr.shape}, expected {want}")
    if finite and not np.all(np.isfinite(arr)):
        beyond = " (or values beyond float32)" if dtype == np.float32 else ""
        raise BtspError("BTSP_E_RANGE", f"{what}: NaN or infinite values{beyond}")
    return arr


def _count(v, what, lo=0, hi=None):
    """v as a Python int in [lo, hi] (hi None: no upper bound), or a clear error."""
    if isinstance(v, (bool, np.bool_)):  # an int subclass to Python, but never meant as a count
        raise BtspError("BTSP_E_INVALID_ARG", f"{what}: {v!r} is not an integer")
    try:
        n = operator.index(v)
    except TypeError:
        raise BtspError("BTSP_E_INVALID_ARG", f"{what}: {v!r} is not an integer") from None
    if n < lo or (hi is not None and n > hi):
        raise BtspError("BTSP_E_RANGE", f"{what}: {n} is outside [{lo}, {'inf' if hi is None else hi}]")
    return n


_U64_MAX = 2**64 - 1


def _ref(params, cls):
    """ctypes.byref(params) after checking it is a `cls` (a wrong struct would be read as this one)."""
    if not isinstance(params, cls):
        raise BtspError("BTSP_E_INVALID_ARG", f"expected btsp.{cls.__name__} parameters, got {type(params).__name__}")
    return ctypes.byref(params)


def _ptr(arr):
    return arr.ctypes.data_as(_fptr)


def permutation(seed, epoch, n):
    """The seeded permutation of 0..n-1 the `btsp` command trains epoch `epoch` in
    (btsp_k_permutation(data_seed, epoch)): pass it as `order` to repeat a `btsp train` run."""
    n = _count(n, "n", 0, 2**32)
    perm = np.empty(n, dtype=np.uint32)
    _k_permutation(_count(seed, "seed", 0, _U64_MAX), _count(epoch, "epoch", 0, _U64_MAX),
                   perm.ctypes.data_as(_u32ptr), n)
    return perm


_PRIVATE = object()


class Net:
    """A libbtsp network (an opaque btsp_net handle). Create it with Net.from_config() or
    Net.from_yaml(); it is finalized at creation unless finalize=False. close() (or a `with`
    block, or garbage collection) frees it."""

    def __init__(self, handle, _token=None):
        if _token is not _PRIVATE:  # a Net owns its handle: two owners would free it twice
            raise TypeError("create networks with Net.from_config() or Net.from_yaml()")
        self._h = handle

    # ---- creation -------------------------------------------------------------------------
    @classmethod
    def _load(cls, loader, seed, rng, finalize, check_finite):
        if rng not in ("counter", "torch"):
            raise BtspError("BTSP_E_INVALID_ARG", f"rng must be 'counter' or 'torch', got {rng!r}")
        seed = _count(seed, "seed", 0, _U64_MAX)
        handle = _p()
        err = ctypes.create_string_buffer(2048)
        st = loader(ctypes.byref(handle), err)
        if st:
            raise BtspError(_name(st), err.value.decode(errors="replace"))
        net = cls(handle, _PRIVATE)
        net._check(_net_seed(handle, seed))
        if rng == "torch":
            net._check(_net_set(handle, _NET_INIT_RNG, 1.0))
        if check_finite:
            net._check(_net_set(handle, _NET_CHECK_FINITE, 1.0))
        if finalize:
            net.finalize()
        return net

    @classmethod
    def from_config(cls, path, seed=66049, rng="counter", finalize=True, check_finite=False):
        """Load an EIANN YAML config (btsp_config_load), seed it (initial weights, stochastic
        plateaus; rng "torch" draws EIANN's initial weights for the seed) and finalize it.
        check_finite: every training step checks the weights and raises BTSP_E_NUMERIC on a
        non-finite one (BTSP_NET_CHECK_FINITE)."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise BtspError("BTSP_E_INVALID_ARG", f"from_config: expected a path, got {type(path).__name__}")
        return cls._load(lambda h, err: _config_load(os.fsencode(path), None, h, err, len(err)), seed, rng, finalize,
                         check_finite)

    @classmethod
    def from_yaml(cls, text, seed=66049, rng="counter", finalize=True, check_finite=False, name="<string>"):
        """The same from YAML text in memory."""
        if not isinstance(text, (str, bytes, bytearray, memoryview)):  # bytes(5) would be 5 zero bytes
            raise BtspError("BTSP_E_INVALID_ARG", f"from_yaml: expected YAML text, got {type(text).__name__}")
        data = text.encode() if isinstance(text, str) else bytes(text)
        return cls._load(lambda h, err: _config_load_string(data, len(data), name.encode(), None, h, err, len(err)),
                         seed, rng, finalize, check_finite)

    def finalize(self):
        """Validate, allocate and draw the initial weights (btsp_net_finalize)."""
        self._check(_net_finalize(self.handle))

    def close(self):
        """Free the network (btsp_net_destroy); later calls raise BtspError."""
        if getattr(self, "_h", None) and _net_destroy is not None:  # None at interpreter exit
            _net_destroy(self._h)
        self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- helpers --------------------------------------------------------------------------
    @property
    def handle(self):
        """The btsp_net pointer (for calls this binding does not wrap)."""
        if not getattr(self, "_h", None):
            raise BtspError("BTSP_E_STATE", "the network was closed")
        return self._h

    def _check(self, st):
        if st < 0:
            raise BtspError(_name(st), _net_errmsg(self.handle).decode(errors="replace"))
        return st

    @staticmethod
    def _name_bytes(name, what):
        if not isinstance(name, str):
            raise BtspError("BTSP_E_INVALID_ARG", f"{what} name: expected a str, got {type(name).__name__}")
        return name.encode()

    def _proj(self, name):
        name = self._name_bytes(name, "projection")
        q = _p()
        self._check(_net_find_proj(self.handle, name, ctypes.byref(q)))
        return q

    def _pop(self, name):
        name = self._name_bytes(name, "population")
        p = _p()
        self._check(_net_find_pop(self.handle, name, ctypes.byref(p)))
        return p

    # ---- structure ------------------------------------------------------------------------
    @property
    def populations(self):
        """Population names ("Layer.Pop") in sweep order, with their sizes."""
        h = self.handle
        pops = [_net_pop_at(h, i) for i in range(_net_pop_count(h))]
        return {_pop_full_name(p).decode(): _pop_size(p) for p in pops}

    @property
    def projections(self):
        """Projection names (EIANN's, e.g. "H1E_InputE"), in creation order."""
        h = self.handle
        return [_proj_name(_net_proj_at(h, i)).decode() for i in range(_net_proj_count(h))]

    @property
    def n_inputs(self):
        return _pop_size(_net_input(self.handle))

    @property
    def n_outputs(self):
        return _pop_size(_net_output(self.handle))

    @property
    def seed(self):
        return _net_get_seed(self.handle)

    @property
    def sample_count(self):
        """Training samples since finalize (or since the state image loaded last was saved)."""
        return _net_sample_count(self.handle)

    @property
    def last_loss(self):
        """MSE loss of the last training sample's forward output."""
        return _net_last_loss(self.handle)

    # ---- running --------------------------------------------------------------------------
    def train(self, X, Y, order=None, samples=None):
        """Online training (btsp_net_train): rows of X (n x inputs) with targets Y (n x outputs),
        in `order` (integer row indices in [0, n); default 0..n-1), the first `samples` of them
        (default: all of the order, or n)."""
        X = _floats(X, (None, self.n_inputs), "X")
        Y = _floats(Y, (X.shape[0], self.n_outputs), "Y")
        rows = X.shape[0]
        optr = None
        if order is not None:
            o = np.asarray(order)
            if o.ndim != 1 or (o.size and o.dtype.kind not in "iu"):
                raise BtspError("BTSP_E_INVALID_ARG",
                                f"order: expected a 1-D array of integer row indices, got {o.dtype} of shape {o.shape}")
            if o.size and (o.min() < 0 or o.max() >= rows):
                raise BtspError("BTSP_E_RANGE", f"order: indices from {o.min()} to {o.max()}, rows are 0..{rows - 1}")
            order = np.ascontiguousarray(o, dtype=np.uint32)
            optr = order.ctypes.data_as(_u32ptr)
        limit = len(order) if order is not None else rows
        n = limit if samples is None else _count(samples, "samples", 0, limit)
        self._check(_net_train(self.handle, _ptr(X), _ptr(Y), rows, X.shape[1], Y.shape[1], optr, n))

    def evaluate(self, X):
        """Final output activities for every row of X (btsp_net_evaluate; no learning)."""
        X = _floats(X, (None, self.n_inputs), "X")
        out = np.empty((X.shape[0], self.n_outputs), dtype=np.float32)
        self._check(_net_evaluate(self.handle, _ptr(X), X.shape[0], X.shape[1], _ptr(out), out.shape[1]))
        return out

    def accuracy(self, X, labels):
        """Percent of rows whose largest output (ties: lowest index) is the label."""
        out = self.evaluate(X)
        lab = np.asarray(labels)
        if lab.shape != (out.shape[0],) or (lab.size and lab.dtype.kind not in "iu"):
            raise BtspError("BTSP_E_SHAPE", f"labels: {lab.dtype} of shape {lab.shape}, expected {out.shape[0]} "
                                            f"integer class indices")
        return 100.0 * float(np.mean(np.argmax(out, axis=1) == lab)) if lab.size else float("nan")

    def activity(self, X, populations=None):
        """Final activity of populations (a name or a list of names; default all) for every row
        of X, as a dict of n x size arrays (btsp_net_evaluate_activity)."""
        X = _floats(X, (None, self.n_inputs), "X")
        h = self.handle
        names = list(self.populations)
        if isinstance(populations, str):
            populations = [populations]  # one name, not its characters
        wanted = names if populations is None else list(populations)
        for w in wanted:
            if w not in names:
                raise BtspError("BTSP_E_NOT_FOUND", f"no population named {w!r} (have {', '.join(names)})")
        result, ptrs = {}, (_fptr * len(names))()
        for i, name in enumerate(names):
            if name in wanted:
                result[name] = np.empty((X.shape[0], _pop_size(_net_pop_at(h, i))), dtype=np.float32)
                ptrs[i] = _ptr(result[name])
        self._check(_net_evaluate_activity(h, _ptr(X), X.shape[0], X.shape[1], ptrs, None, len(names)))
        return result

    def state(self, population, var="activity"):
        """A copy of a population's state vector after the last call: var is one of
        activity, prev_activity, soma_state, forward_activity, forward_prev, forward_dend,
        dend_state, plateau, nudge, bias."""
        if not isinstance(var, str) or var not in _VARS:
            raise BtspError("BTSP_E_INVALID_ARG", f"unknown state {var!r} (one of {', '.join(_VARS)})")
        data, n = _fptr(), _sz()
        self._check(_pop_state(self._pop(population), _VARS[var], ctypes.byref(data), ctypes.byref(n)))
        return np.ctypeslib.as_array(data, shape=(n.value,)).copy()

    # ---- parameters -----------------------------------------------------------------------
    def weights(self, projection):
        """A copy of a projection's weights, post x pre float32."""
        w, r, c = _fptr(), _sz(), _sz()
        self._check(_proj_weights(self._proj(projection), ctypes.byref(w), ctypes.byref(r), ctypes.byref(c)))
        return np.ctypeslib.as_array(w, shape=(r.value, c.value)).copy()

    def receptive_fields(self, projection):
        """The receptive fields of a projection with EIANN's receptive_field_mask
        (btsp_proj_set_receptive_fields), or None if it has none: a dict with `side`,
        `channels`, `height`, `width`, `norm_scale` (0: no row normalisation) and `corners`, an
        int64 array (post units x 2) of each unit's top-left pixel (image row, column)."""
        q = self._proj(projection)
        side, ch, h, w, ns = _sz(), _sz(), _sz(), _sz(), ctypes.c_double()
        if _proj_get_rf(q, ctypes.byref(side), ctypes.byref(ch), ctypes.byref(h), ctypes.byref(w),
                        ctypes.byref(ns)) != 0:
            return None
        if not _net_is_finalized(self.handle):
            raise BtspError("BTSP_E_STATE", "finalize the network first (the fields are drawn then)")
        data, rows, cols = _fptr(), _sz(), _sz()
        self._check(_proj_weights(q, ctypes.byref(data), ctypes.byref(rows), ctypes.byref(cols)))
        rows = rows.value
        corners = np.empty((rows, 2), dtype=np.int64)
        r, c = _sz(), _sz()
        for u in range(rows):
            self._check(_proj_rf(q, u, ctypes.byref(r), ctypes.byref(c)))
            corners[u] = (r.value, c.value)
        return {"side": side.value, "channels": ch.value, "height": h.value, "width": w.value,
                "norm_scale": ns.value, "corners": corners}

    def set_weights(self, projection, W):
        """Replace a projection's weights (btsp_proj_set_weights; clamped and cloned at the next
        training step or btsp_net_constrain)."""
        q = self._proj(projection)
        cur = self.weights(projection)
        W = _floats(W, cur.shape, f"weights of {projection}")
        self._check(_proj_set_weights(q, _ptr(W), W.shape[0], W.shape[1]))

    def set_bias(self, population, b):
        """Replace a population's bias (it must have one)."""
        p = self._pop(population)
        b = _floats(b, (_pop_size(p),), f"bias of {population}")
        self._check(_pop_set_bias(p, _ptr(b), b.shape[0]))

    def save_weights(self, directory):
        """Every projection and bias as EIANN-named .npy files in `directory`."""
        err = ctypes.create_string_buffer(2048)
        st = _io_save_weights(self.handle, os.fsencode(directory), err, len(err))
        if st:
            raise BtspError(_name(st), err.value.decode(errors="replace"))

    def load_weights(self, directory, require_all=False):
        """Weights and biases from .npy files (e.g. written by EIANN or save_weights)."""
        err = ctypes.create_string_buffer(2048)
        st = _io_load_weights(self.handle, os.fsencode(directory), int(require_all), err, len(err))
        if st:
            raise BtspError(_name(st), err.value.decode(errors="replace"))

    # ---- checkpoints ----------------------------------------------------------------------
    def save_state(self):
        """The state image (btsp_net_save_state) as bytes: training resumed from it with
        load_state() gives bitwise the weights of training that never stopped."""
        n = _net_state_size(self.handle)
        if n == 0:
            raise BtspError("BTSP_E_STATE", "finalize the network first")
        buf = ctypes.create_string_buffer(n)
        self._check(_net_save_state(self.handle, buf, n, None))
        return buf.raw

    def load_state(self, image):
        """Restore a state image from save_state() (or a .btsp file's bytes); on failure the
        network is unchanged."""
        if not isinstance(image, (bytes, bytearray, memoryview)):  # bytes(5) would be 5 zero bytes
            raise BtspError("BTSP_E_INVALID_ARG",
                            f"load_state: expected the bytes of a state image, got {type(image).__name__}")
        image = bytes(image)
        self._check(_net_load_state(self.handle, image, len(image)))


# ---- binary synapses (Wu & Maass 2025; btsp_kernels.h "Binary synapses") ------------------------
# Bit vectors are uint64 arrays, bit j in word j // 64 at position j % 64 (unused high bits 0);
# a weight or mask matrix is a 2-D uint64 array, one row of words per post neuron.

FLIP = 0  # BTSP_K_BINARY_FLIP: w <- 1 - w on active inputs of neurons with a plateau (BTSP)
SET = 1   # BTSP_K_BINARY_SET: w <- 1 (clipped Hebbian, Willshaw)


def pack_bits(b):
    """A bool or numeric array, 1-D (a vector) or 2-D (rows), to the kernels' uint64 words:
    every nonzero value is a 1 bit (NaN included); the unused high bits of the last word are 0."""
    b = np.asarray(b)
    if b.ndim not in (1, 2):
        raise BtspError("BTSP_E_SHAPE", f"pack_bits: shape {b.shape}, expected 1-D or 2-D")
    if b.size and b.dtype.kind not in "biuf":
        raise BtspError("BTSP_E_INVALID_ARG", f"pack_bits: values of type {b.dtype}, expected bool or numbers")
    rows = (b != 0).reshape((1 if b.ndim == 1 else b.shape[0], b.shape[-1]))
    n = rows.shape[1]
    words = -(-n // 64)
    padded = np.zeros((rows.shape[0], words * 64), dtype=bool)
    padded[:, :n] = rows
    out = np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    return out[0] if b.ndim == 1 else out


def unpack_bits(words, n):
    """The first n bits of uint64 words (1-D or rows) as a bool array."""
    src = np.asarray(words)
    if src.size and src.dtype.kind != "u":
        raise BtspError("BTSP_E_INVALID_ARG", f"unpack_bits: values of type {src.dtype}, expected uint64 words")
    w = np.ascontiguousarray(src, dtype="<u8")
    if w.ndim == 0:
        w = w.reshape(1)
    bits = np.unpackbits(w.view(np.uint8).reshape(w.shape[:-1] + (8 * w.shape[-1],)), axis=-1, bitorder="little")
    return bits[..., :_count(n, "n", 0, w.shape[-1] * 64)].astype(bool)


def bernoulli_bits(seed, stream, counter, n, p):
    """n independent Bernoulli(p) bits, bit i drawn with counter + i (btsp_k_bernoulli_bits)."""
    n = _count(n, "n", 0)
    out = np.zeros(-(-n // 64), dtype=np.uint64)
    _k_bernoulli_bits(_count(seed, "seed", 0, _U64_MAX), _count(stream, "stream", 0, _U64_MAX),
                      _count(counter, "counter", 0, _U64_MAX), n, float(p), out.ctypes.data_as(_u64ptr))
    return out


def _words(a, what, shape):
    arr = np.asarray(a)
    if arr.dtype != np.uint64 or arr.shape != shape:
        raise BtspError("BTSP_E_SHAPE", f"{what}: {arr.dtype} of shape {arr.shape}, expected uint64 of shape "
                                        f"{shape} (pack_bits)")
    if not arr.flags.c_contiguous or not arr.flags.aligned:
        raise BtspError("BTSP_E_INVALID_ARG", f"{what}: not a C-contiguous, aligned array (np.ascontiguousarray)")
    return arr


def binary_store(rule, W, x, plateau, mask=None):
    """Store one item in place (btsp_k_binary_store): for every neuron whose bit is set in
    `plateau`, the synapses from active bits of `x` (that `mask` connects) flip (FLIP) or are
    set (SET). W: a uint64 NumPy array, rows x words, changed in place. Keep the unused high
    bits of x (beyond the number of inputs) 0, as pack_bits does: set ones would be stored."""
    if rule not in (FLIP, SET):
        raise BtspError("BTSP_E_INVALID_ARG", f"rule must be btsp.FLIP or btsp.SET, got {rule!r}")
    if not isinstance(W, np.ndarray):
        raise BtspError("BTSP_E_INVALID_ARG", "W: must be a uint64 NumPy array (it is changed in place)")
    if W.ndim != 2:
        raise BtspError("BTSP_E_SHAPE", f"W: shape {W.shape}, expected rows x words")
    rows, words = W.shape
    _words(W, "W", (rows, words))
    if not W.flags.writeable:
        raise BtspError("BTSP_E_INVALID_ARG", "W: read-only array")
    x = _words(x, "x", (words,))
    plateau = _words(plateau, "plateau", (-(-rows // 64),))
    m = None if mask is None else _words(mask, "mask", (rows, words)).ctypes.data_as(_u64ptr)
    _k_binary_store(rule, rows, words, W.ctypes.data_as(_u64ptr), m, x.ctypes.data_as(_u64ptr),
                    plateau.ctypes.data_as(_u64ptr))


def binary_input(W, x, mask=None):
    """Synaptic input of every neuron to the bits x: popcount(W[i] & mask[i] & x), uint32."""
    W = np.asarray(W)
    if W.ndim != 2:
        raise BtspError("BTSP_E_SHAPE", f"W: shape {W.shape}, expected rows x words")
    rows, words = W.shape
    _words(W, "W", (rows, words))
    x = _words(x, "x", (words,))
    m = None if mask is None else _words(mask, "mask", (rows, words)).ctypes.data_as(_u64ptr)
    h = np.empty(rows, dtype=np.uint32)
    _k_binary_input(rows, words, W.ctypes.data_as(_u64ptr), m, x.ctypes.data_as(_u64ptr),
                    h.ctypes.data_as(_u32ptr))
    return h


# ---- weight-dependent bidirectional BTSP (Milstein et al. 2021; btsp_kernels.h) ------------------

class QParams(ctypes.Structure):
    """btsp_k_q_params: the scaled rectified sigmoid q (th, peak = th + width, x0, x1, y0, y1)."""
    _fields_ = [("th", ctypes.c_double), ("peak", ctypes.c_double), ("x0", ctypes.c_double),
                ("x1", ctypes.c_double), ("y0", ctypes.c_double), ("y1", ctypes.c_double)]


class WDParams(ctypes.Structure):
    """btsp_k_wd_params: k_pot, k_dep (1/s), q_pot, q_dep, tau_et, tau_is (s), w_max; fields can
    be changed after wd_default()."""
    _fields_ = [("k_pot", ctypes.c_double), ("k_dep", ctypes.c_double), ("q_pot", QParams), ("q_dep", QParams),
                ("tau_et", ctypes.c_double), ("tau_is", ctypes.c_double), ("w_max", ctypes.c_double)]


_k_q = _fn("btsp_k_q", ctypes.c_double, ctypes.POINTER(QParams), ctypes.c_double)
_k_wd_default = _fn("btsp_k_wd_default", None, ctypes.POINTER(WDParams))
_k_wd_rate_acc = _fn("btsp_k_wd_rate_acc", None, ctypes.POINTER(WDParams), _sz, _fptr, _fptr, ctypes.c_float,
                     ctypes.c_double, _fptr)
_k_wd_fixed_point = _fn("btsp_k_wd_fixed_point", ctypes.c_double, ctypes.POINTER(WDParams), ctypes.c_double)


def q(params, x):
    """q(x) of a QParams (btsp_k_q)."""
    return _k_q(_ref(params, QParams), float(x))


def wd_default():
    """The generic parameters of Milstein et al. 2021's network model (btsp_k_wd_default)."""
    p = WDParams()
    _k_wd_default(ctypes.byref(p))
    return p


def wd_rate(params, w, et, instructive, dt):
    """The change of normalised weights w (one cell's synapses, in [0, 1]) over one step dt (s):
    dt * (k_pot q_pot(s) (1 - w) - k_dep q_dep(s) w) with s = et * instructive (btsp_k_wd_rate_acc)."""
    w = _floats(w, (None,), "w")
    et = _floats(et, (w.shape[0],), "et")
    if not (np.isfinite(instructive) and np.isfinite(dt)):
        raise BtspError("BTSP_E_RANGE", f"wd_rate: instructive {instructive} and dt {dt} must be finite")
    dw = np.zeros_like(w)
    _k_wd_rate_acc(_ref(params, WDParams), w.shape[0], _ptr(w), _ptr(et), float(instructive), float(dt), _ptr(dw))
    return dw


def wd_fixed_point(params, s):
    """w* = k_pot q_pot(s) / (k_pot q_pot(s) + k_dep q_dep(s)) (NaN without drive)."""
    return _k_wd_fixed_point(_ref(params, WDParams), float(s))


# ---- two-trace BTSP with a fixed point (Cone & Shouval 2021; btsp_kernels.h) ---------------------

_dptr = ctypes.POINTER(ctypes.c_double)


# ---- the pairing kernel of Bittner et al. 2017 (btsp_kernels.h) ---------------------------------

class BittnerParams(ctypes.Structure):
    """btsp_k_bittner_params: tau_before, tau_after (s), amp_before, amp_after; fields can be
    changed after bittner_default()."""
    _fields_ = [(n, ctypes.c_double) for n in ("tau_before", "tau_after", "amp_before", "amp_after")]


_k_bittner_default = _fn("btsp_k_bittner_default", None, ctypes.POINTER(BittnerParams))
_k_bittner_kernel = _fn("btsp_k_bittner_kernel", ctypes.c_double, ctypes.POINTER(BittnerParams), ctypes.c_double)
_k_bittner_step = _fn("btsp_k_bittner_step", None, ctypes.POINTER(BittnerParams), _sz, ctypes.c_double, _fptr,
                      ctypes.c_int, _dptr, _dptr, _fptr)


def _times_positive(params, names):
    """The listed time constants of a parameter struct must be finite and > 0 (the C kernels do
    not check: a kernel for host loops)."""
    for n in names:
        _positive(getattr(params, n), n)


def _plateau_steps(plateau, steps):
    plateau = np.asarray(plateau)
    if plateau.shape != (steps,):
        raise BtspError("BTSP_E_SHAPE", f"plateau: shape {plateau.shape}, expected ({steps},)")
    if plateau.dtype != bool and not np.issubdtype(plateau.dtype, np.integer):
        raise BtspError("BTSP_E_INVALID_ARG", f"plateau: booleans (or integers) per step, not {plateau.dtype}")
    return plateau


def _run_inputs(params, cls, check, x, plateau, dt):
    """The checked inputs of bittner_run / etis_run: (params by reference, x steps x n float32
    >= 0 and finite, plateau per step, dt > 0)."""
    pref = _ref(params, cls)
    check(params)
    x = _floats(x, (None, None), "x")
    if np.any(x < 0):
        raise BtspError("BTSP_E_RANGE", "x: negative values")
    return pref, x, _plateau_steps(plateau, x.shape[0]), _positive(dt, "dt")


def _bittner_check(params):
    _times_positive(params, ("tau_before", "tau_after"))


def _seconds(d):
    try:
        d = np.asarray(d, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise BtspError("BTSP_E_INVALID_ARG", f"d: not numbers ({e})") from None
    return d


def bittner_default():
    """tau_before 1.31 s, tau_after 0.69 s, amp_before 1, amp_after 1.15 (btsp_k_bittner_default)."""
    p = BittnerParams()
    _k_bittner_default(ctypes.byref(p))
    return p


def bittner_kernel(params, d):
    """K(d) for d = t_pre - t_plateau in s, element by element (btsp_k_bittner_kernel)."""
    pref = _ref(params, BittnerParams)
    _bittner_check(params)
    d = _seconds(d)
    return np.array([_k_bittner_kernel(pref, float(v)) for v in d.ravel()]).reshape(d.shape)


def bittner_run(params, x, dt, plateau):
    """Steps of btsp_k_bittner_step from empty traces: x is steps x n (spike counts, or rates x
    dt, >= 0), plateau a boolean per step (a plateau starts in it). Returns the weight change of
    every input (float32 of n)."""
    pref, x, plateau, dt = _run_inputs(params, BittnerParams, _bittner_check, x, plateau, dt)
    steps, n = x.shape
    pre, w, post = np.zeros(n), np.zeros(n, np.float32), ctypes.c_double(0.0)
    for s in range(steps):
        _k_bittner_step(pref, n, dt, _ptr(x[s]), int(bool(plateau[s])), pre.ctypes.data_as(_dptr), ctypes.byref(post),
                        _ptr(w))
    return w


class CSParams(ctypes.Structure):
    """btsp_k_cs_params: tau_p, tau_d (s), eta_p, eta_d, tmax_p, tmax_d, tau_is (s), is_peak,
    eta_w (1/s); fields can be changed after cs_default()."""
    _fields_ = [(n, ctypes.c_double) for n in
                ("tau_p", "tau_d", "eta_p", "eta_d", "tmax_p", "tmax_d", "tau_is", "is_peak", "eta_w")]


_k_cs_default = _fn("btsp_k_cs_default", None, ctypes.POINTER(CSParams))
_k_cs_traces = _fn("btsp_k_cs_traces", None, ctypes.POINTER(CSParams), _sz, _fptr, ctypes.c_double, _fptr, _fptr)
_k_cs_integrals_acc = _fn("btsp_k_cs_integrals_acc", None, _sz, ctypes.c_double, _fptr, _fptr, ctypes.c_double,
                          _dptr, _dptr)
_k_cs_apply = _fn("btsp_k_cs_apply", None, ctypes.POINTER(CSParams), _sz, _dptr, _dptr, _fptr)
_k_cs_fixed_point = _fn("btsp_k_cs_fixed_point", ctypes.c_double, ctypes.c_double, ctypes.c_double)


def _doubles(a, shape, what):
    return _floats(a, shape, what, dtype=np.float64)


def _positive(v, what):
    if not (isinstance(v, (int, float, np.integer, np.floating)) and np.isfinite(v) and v > 0):
        raise BtspError("BTSP_E_RANGE", f"{what}: {v!r} must be a finite number > 0")
    return float(v)


def cs_default():
    """The parameters of Cone & Shouval's main simulation (btsp_k_cs_default)."""
    p = CSParams()
    _k_cs_default(ctypes.byref(p))
    return p


def cs_lap_integrals(params, rates, dt, instructive):
    """One lap of both traces from 0 (btsp_k_cs_traces per step, then btsp_k_cs_integrals_acc):
    rates is steps x n (input rates >= 0, held over each step of dt s), instructive the
    instructive signal at the end of each step (steps values). Returns (I_p, I_d), float64 of n."""
    pref = _ref(params, CSParams)
    rates = _floats(rates, (None, None), "rates")
    if np.any(rates < 0):
        raise BtspError("BTSP_E_RANGE", "rates: negative values")
    steps, n = rates.shape
    inst = _doubles(instructive, (steps,), "instructive")
    dt = _positive(dt, "dt")
    tp, td = np.zeros(n, np.float32), np.zeros(n, np.float32)
    ip, idp = np.zeros(n), np.zeros(n)
    for s in range(steps):
        _k_cs_traces(pref, n, _ptr(rates[s]), dt, _ptr(tp), _ptr(td))
        _k_cs_integrals_acc(n, float(inst[s]), _ptr(tp), _ptr(td), dt, ip.ctypes.data_as(_dptr),
                            idp.ctypes.data_as(_dptr))
    return ip, idp


def cs_apply(params, ip, id_, w):
    """The end-of-lap update (btsp_k_cs_apply): w + eta_w (I_p (1 - w) - I_d w), clipped below at 0;
    returns the new weights (float32), w itself is not changed."""
    w = _floats(w, (None,), "w").copy()
    ip = _doubles(ip, (w.shape[0],), "ip")
    id_ = _doubles(id_, (w.shape[0],), "id")
    _k_cs_apply(_ref(params, CSParams), w.shape[0], ip.ctypes.data_as(_dptr), id_.ctypes.data_as(_dptr), _ptr(w))
    return w


def cs_fixed_point(ip, id_):
    """W* = I_p / (I_p + I_d) element by element (NaN where both are 0; btsp_k_cs_fixed_point)."""
    try:
        ip, id_ = np.broadcast_arrays(np.asarray(ip, dtype=np.float64), np.asarray(id_, dtype=np.float64))
    except (ValueError, TypeError) as e:
        raise BtspError("BTSP_E_SHAPE", f"cs_fixed_point: I_p and I_d do not match: {e}") from None
    return np.array([_k_cs_fixed_point(a, b) for a, b in zip(ip.ravel(), id_.ravel())]).reshape(ip.shape)


class ETISParams(ctypes.Structure):
    """btsp_k_etis_params: local_rise, local_decay, global_rise, global_decay, plateau_dur (s),
    gain; fields can be changed after etis_default()."""
    _fields_ = [(n, ctypes.c_double) for n in
                ("local_rise", "local_decay", "global_rise", "global_decay", "plateau_dur", "gain")]


_k_etis_default = _fn("btsp_k_etis_default", None, ctypes.POINTER(ETISParams))
_k_etis_kernel = _fn("btsp_k_etis_kernel", ctypes.c_double, ctypes.POINTER(ETISParams), ctypes.c_double)
_k_etis_step = _fn("btsp_k_etis_step", None, ctypes.POINTER(ETISParams), _sz, ctypes.c_double, _fptr, ctypes.c_int,
                   _dptr, _dptr, _fptr)


def _etis_check(params):
    _times_positive(params, ("local_rise", "local_decay", "global_rise", "global_decay"))
    if not (params.local_rise < params.local_decay and params.global_rise < params.global_decay):
        raise BtspError("BTSP_E_RANGE", "each kernel's rise must be shorter than its decay")
    if not (np.isfinite(params.plateau_dur) and params.plateau_dur >= 0 and np.isfinite(params.gain)):
        raise BtspError("BTSP_E_RANGE", "plateau_dur must be finite and >= 0, gain finite")


def etis_default():
    """The linear ET x IS form's CA1Sim kernels (btsp_k_etis_default): local 5.3 / 584 ms,
    global 130 / 268 ms, a 300 ms plateau, gain 1."""
    p = ETISParams()
    _k_etis_default(ctypes.byref(p))
    return p


def etis_kernel(params, d):
    """Weight change of one spike and one plateau at d = t_pre - t_plateau_onset (s), element by
    element (btsp_k_etis_kernel, closed form)."""
    pref = _ref(params, ETISParams)
    _etis_check(params)
    d = _seconds(d)
    return np.array([_k_etis_kernel(pref, float(v)) for v in d.ravel()]).reshape(d.shape)


def etis_run(params, x, dt, plateau):
    """Steps of btsp_k_etis_step from empty traces: x is steps x n (spike counts, or rates x dt,
    >= 0), plateau a boolean per step (the plateau covers the step). Returns the weight change of
    every input (float32 of n)."""
    pref, x, plateau, dt = _run_inputs(params, ETISParams, _etis_check, x, plateau, dt)
    steps, n = x.shape
    et, inst, w = np.zeros(2 * n), np.zeros(2), np.zeros(n, np.float32)
    for s in range(steps):
        _k_etis_step(pref, n, dt, _ptr(x[s]), int(bool(plateau[s])), et.ctypes.data_as(_dptr),
                     inst.ctypes.data_as(_dptr), _ptr(w))
    return w


# ---- skewed kernels, one update per induction (Li & Roxin 2023; btsp_kernels.h) ------------------

class SkewT(ctypes.Structure):
    """btsp_k_skew_t: nu (> 0), mu, sigma (> 0), skew."""
    _fields_ = [("nu", ctypes.c_double), ("mu", ctypes.c_double), ("sigma", ctypes.c_double),
                ("skew", ctypes.c_double)]


class LRParams(ctypes.Structure):
    """btsp_k_lr_params: pot, dep (SkewT, in s), amp_pot, amp_dep, period (s; 0: no lap sum)."""
    _fields_ = [("pot", SkewT), ("dep", SkewT), ("amp_pot", ctypes.c_double), ("amp_dep", ctypes.c_double),
                ("period", ctypes.c_double)]


_k_student_t_cdf = _fn("btsp_k_student_t_cdf", ctypes.c_double, ctypes.c_double, ctypes.c_double)
_k_skew_t_pdf = _fn("btsp_k_skew_t_pdf", ctypes.c_double, ctypes.POINTER(SkewT), ctypes.c_double)
_k_lr_default = _fn("btsp_k_lr_default", ctypes.c_int, ctypes.POINTER(LRParams), ctypes.c_double, ctypes.c_double)
_k_lr_kernels = _fn("btsp_k_lr_kernels", None, ctypes.POINTER(LRParams), ctypes.c_double, _dptr, _dptr)
_k_lr_induction = _fn("btsp_k_lr_induction", None, ctypes.POINTER(LRParams), _sz, _dptr, _sz, _dptr, _fptr)
_k_lr_apply = _fn("btsp_k_lr_apply", None, ctypes.POINTER(LRParams), _sz, _dptr, _dptr, _fptr)
_k_lr_ring_store = _fn("btsp_k_lr_ring_store", None, _sz, _u32ptr, _fptr, ctypes.c_double, ctypes.c_double, _fptr,
                       _sz)
_k_lr_ring_moments = _fn("btsp_k_lr_ring_moments", None, ctypes.c_double, ctypes.c_double, _dptr, _dptr)


def student_t_cdf(t, nu):
    """P(T <= t) for a Student t with nu > 0 degrees of freedom (NaN for nu <= 0)."""
    return _k_student_t_cdf(float(t), float(nu))


def skew_t_pdf(d, x):
    """The skew-t density of a SkewT at x (a number or an array: evaluated element by element)."""
    xs = np.asarray(x, dtype=np.float64)
    out = np.array([_k_skew_t_pdf(_ref(d, SkewT), v) for v in xs.ravel()]).reshape(xs.shape)
    return float(out) if out.ndim == 0 else out


def lr_default(speed_cm_s, track_cm):
    """Li & Roxin's fitted parameters for 15, 20, 25 or 35 cm/s on a track of track_cm cm
    (btsp_k_lr_default); any other speed raises BtspError."""
    p = LRParams()
    if _k_lr_default(ctypes.byref(p), float(speed_cm_s), float(track_cm)) != 0:
        raise BtspError("BTSP_E_RANGE", f"lr_default: no fitted parameters for {speed_cm_s} cm/s (15, 20, 25, 35) "
                                        f"or track length {track_cm} cm not finite and > 0")
    return p


def lr_kernels(params, tau):
    """(F_P(tau), F_D(tau)) in 1/s, lap sums included (btsp_k_lr_kernels)."""
    fp, fd = ctypes.c_double(), ctypes.c_double()
    _k_lr_kernels(_ref(params, LRParams), float(tau), ctypes.byref(fp), ctypes.byref(fd))
    return fp.value, fd.value


def lr_induction(params, w, t_input, t_plateau):
    """One induction lap (btsp_k_lr_induction): w in [0, 1] (float32), t_input the time (s) each
    input's field centre is passed, t_plateau one plateau time or several (s). Returns the new
    weights; w itself is not changed."""
    w = _floats(w, (None,), "w").copy()
    t_in = _doubles(t_input, (w.shape[0],), "t_input")
    t_pl = _doubles(np.atleast_1d(t_plateau), (None,), "t_plateau")
    _k_lr_induction(_ref(params, LRParams), w.shape[0], t_in.ctypes.data_as(_dptr), t_pl.shape[0],
                    t_pl.ctypes.data_as(_dptr), _ptr(w))
    return w


def lr_apply(params, w, f_pot, f_dep):
    """The induction update from kernel values computed once (btsp_k_lr_apply): f_pot, f_dep per
    synapse (lr_kernels summed over the lap's plateaus). Returns the new weights (float32)."""
    w = _floats(w, (None,), "w").copy()
    fp = _doubles(f_pot, (w.shape[0],), "f_pot")
    fd = _doubles(f_dep, (w.shape[0],), "f_dep")
    _k_lr_apply(_ref(params, LRParams), w.shape[0], fp.ctypes.data_as(_dptr), fd.ctypes.data_as(_dptr), _ptr(w))
    return w


def lr_ring_store(W, idx, phase, amp_pot, amp_dep):
    """Store one environment in place (btsp_k_lr_ring_store): W a float32 NumPy array, N x N,
    changed for every ordered pair of the distinct cells idx (phases in radians)."""
    if not isinstance(W, np.ndarray) or W.dtype != np.float32:
        raise BtspError("BTSP_E_INVALID_ARG", "W: must be a float32 NumPy array (it is changed in place)")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise BtspError("BTSP_E_SHAPE", f"W: shape {W.shape}, expected N x N")
    if not W.flags.c_contiguous or not W.flags.aligned or not W.flags.writeable:
        raise BtspError("BTSP_E_INVALID_ARG", "W: not a writeable, C-contiguous, aligned array")
    src = np.asarray(idx)
    if src.ndim != 1 or (src.size and src.dtype.kind not in "iu"):
        raise BtspError("BTSP_E_INVALID_ARG", f"idx: expected a 1-D integer array, got {src.dtype} {src.shape}")
    if src.size and (src.min() < 0 or src.max() >= W.shape[0]):
        raise BtspError("BTSP_E_RANGE", f"idx: cells outside [0, {W.shape[0]})")
    if np.unique(src).size != src.size:
        raise BtspError("BTSP_E_INVALID_ARG", "idx: cells must be distinct")
    cells = np.ascontiguousarray(src, dtype=np.uint32)
    ph = _floats(phase, (cells.shape[0],), "phase")
    for v, what in ((amp_pot, "amp_pot"), (amp_dep, "amp_dep")):
        if not np.isfinite(v):
            raise BtspError("BTSP_E_RANGE", f"{what}: {v!r} must be finite")
    _k_lr_ring_store(cells.shape[0], cells.ctypes.data_as(_u32ptr), _ptr(ph), float(amp_pot), float(amp_dep),
                     _ptr(W), W.shape[1])


def lr_ring_moments(amp_pot, amp_dep):
    """(mean, variance) of the ring rule's stationary weights (btsp_k_lr_ring_moments)."""
    m, v = ctypes.c_double(), ctypes.c_double()
    _k_lr_ring_moments(float(amp_pot), float(amp_dep), ctypes.byref(m), ctypes.byref(v))
    return m.value, v.value
