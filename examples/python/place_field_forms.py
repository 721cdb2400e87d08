"""One plateau, four BTSP models: the place field each one writes, side by side.

    python3 examples/python/place_field_forms.py

The same experiment for four place-cell forms of BTSP in libbtsp (docs/btsp-forms.md): a
187 cm circular track run at 25 cm/s, 200 inputs with Gaussian place fields (sigma 21.2 cm,
i.e. 90 cm wide at 3 sqrt(2) sigma, as in Cone & Shouval 2021; Milstein et al.'s code writes
exp(-((x - c) / sigma)^2), a standard deviation of 15 cm, which examples/place_field.c uses)
centred evenly along it, and one 300 ms plateau when the animal reaches 90 cm:

  - Bittner et al. 2017 (the pairing kernel, 1.31 s before the plateau onset, 0.69 s after;
    btsp.bittner_*), and its linear ET x IS form with the CA1Sim kernels (btsp.etis_*): inputs as
    expected spike counts of a 1 Hz peak rate, from w = 0;
  - Milstein et al. 2021 (weight-dependent kinetic rule; btsp.wd_*): peak-normalised eligibility
    trace and instructive signal, integrated over the lap with the weights held, w from 1/w_max;
  - Cone & Shouval 2021 (two saturating traces; btsp.cs_*): the lap integrals of the plateau lap
    and the next one (the traces run on from two warm-up laps), one update from w = 0, and the
    fixed point that repeated plateaus at the same place converge to;
  - Li & Roxin 2023 (skewed kernels, one update per induction; btsp.lr_*): w from 0.2.

Their weights live on different scales, so the table compares shapes of the weight change dW
along the track: where it peaks relative to the plateau, its width at half maximum, and how far
it reaches backwards against forwards (the position where dW first falls below half its maximum
on each side). All four potentiate inputs that were active 0.9 s or more before the plateau
(the backward reach is 23 cm or more at 25 cm/s), but they place the peak
differently: Milstein's 9 cm before the plateau, Bittner's kernel 4 cm before, Li & Roxin's 3 cm
before, Bittner's ET x IS form 1 cm after, Cone & Shouval's 5 cm after it (their fast potentiation trace, 0.2 s, meets an instructive signal that starts at the
plateau). The script ends with a check that every field is local and peaked within 40 cm of the
plateau (exit status 1 otherwise). A teaching example: every line is NumPy around the binding.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.normpath(os.path.join(HERE, "..", "..")), "python"))
import btsp  # noqa: E402

TRACK, SPEED, N_IN, PLATEAU_CM, PLATEAU_S = 187.0, 25.0, 200, 90.0, 0.3
SIGMA = 90.0 / (3 * np.sqrt(2))
CENTRES = TRACK * (np.arange(N_IN) + 0.5) / N_IN
LAP_S = TRACK / SPEED


def rates_at(t):
    """Input rates (steps x N_IN) at times t (s) on the circular track."""
    pos = (SPEED * np.asarray(t))[:, None] % TRACK
    d = np.abs(pos - CENTRES[None, :])
    d = np.minimum(d, TRACK - d)
    return np.exp(-d * d / (2 * SIGMA * SIGMA)).astype(np.float32)


def milstein():
    p = btsp.wd_default()
    dt = 0.01
    t = np.arange(int(round(4 * LAP_S / dt))) * dt  # two warm-up laps, the plateau lap, one for the tails
    x = rates_at(t)
    f = np.exp(-dt / p.tau_et)
    et = np.empty_like(x)
    tr = np.zeros(N_IN)
    for k in range(len(t)):  # unit-area exponential filter, then peak-normalised
        tr = tr * f + (1 - f) * x[k]
        et[k] = tr
    et /= et.max()
    start = 2 * LAP_S + PLATEAU_CM / SPEED
    plateau = ((t >= start) & (t < start + PLATEAU_S)).astype(float)
    g = np.exp(-dt / p.tau_is)
    inst = np.empty(len(t))
    s = 0.0
    for k in range(len(t)):
        s = s * g + (1 - g) * plateau[k]
        inst[k] = s
    inst /= inst.max()
    w0 = np.full(N_IN, 1 / p.w_max, np.float32)
    dw = np.zeros(N_IN)
    for k in range(len(t)):
        weight = 0.5 if k in (0, len(t) - 1) else 1.0  # trapezoid, as examples/place_field.c
        dw += btsp.wd_rate(p, w0, et[k], inst[k], weight * dt)
    w = np.clip(w0 + dw, 0, 1)
    return (w - w0) * p.w_max  # in units of the initial weight


def cone_shouval():
    p = btsp.cs_default()
    dt = 0.002
    t = np.arange(int(round(4 * LAP_S / dt))) * dt
    k0 = int(round((2 * LAP_S + PLATEAU_CM / SPEED) / dt))
    inst = np.where(np.arange(len(t)) >= k0, p.is_peak * np.exp(-(np.arange(len(t)) - k0) * dt / p.tau_is), 0.0)
    ip, id_ = btsp.cs_lap_integrals(p, rates_at(t), dt, inst)
    w1 = btsp.cs_apply(p, ip, id_, np.zeros(N_IN, np.float32))
    return w1.astype(float), btsp.cs_fixed_point(ip, id_)


def bittner():
    p = btsp.bittner_default()
    dt = 0.01
    t = np.arange(int(round(4 * LAP_S / dt))) * dt
    plateau = np.zeros(len(t), bool)
    plateau[int(round((2 * LAP_S + PLATEAU_CM / SPEED) / dt))] = True  # the onset: the kernel's reference
    return btsp.bittner_run(p, rates_at(t) * dt, dt, plateau).astype(float)  # expected spikes of 1 Hz peak


def bittner_etis():
    p = btsp.etis_default()
    dt = 0.01
    t = np.arange(int(round(4 * LAP_S / dt))) * dt
    start = 2 * LAP_S + PLATEAU_CM / SPEED
    plateau = (t >= start - dt / 2) & (t < start + PLATEAU_S - dt / 2)
    return btsp.etis_run(p, rates_at(t) * dt, dt, plateau).astype(float)


def li_roxin():
    p = btsp.lr_default(SPEED, TRACK)
    w0 = np.full(N_IN, 0.2, np.float32)
    w = btsp.lr_induction(p, w0, CENTRES / SPEED, PLATEAU_CM / SPEED)
    return (w - w0).astype(float)


def shape(dw):
    """Peak shift (cm, negative = before the plateau), width at half maximum (cm), and the reach
    before and after the plateau (cm) at half maximum, on the circular track."""
    rel = (CENTRES - PLATEAU_CM + TRACK / 2) % TRACK - TRACK / 2  # position relative to the plateau
    order = np.argsort(rel)
    rel, dw = rel[order], dw[order]
    k = int(np.argmax(dw))
    half = dw[k] / 2
    lo = k
    while lo > 0 and dw[lo - 1] >= half:
        lo -= 1
    hi = k
    while hi < N_IN - 1 and dw[hi + 1] >= half:
        hi += 1
    return rel[k], rel[hi] - rel[lo], -rel[lo], rel[hi]


def main():
    rows = [("Bittner 2017 kernel, one lap", bittner()), ("Bittner 2017 ET x IS, one lap", bittner_etis()),
            ("Milstein 2021, one lap", milstein())]
    cs1, cs_star = cone_shouval()
    rows += [("Cone & Shouval 2021, one lap", cs1), ("Cone & Shouval 2021, fixed point", cs_star),
             ("Li & Roxin 2023, one induction", li_roxin())]
    print(f"plateau at {PLATEAU_CM:.0f} cm on a {TRACK:.0f} cm track at {SPEED:.0f} cm/s, {N_IN} inputs")
    print(f"{'model':34s} {'peak dW':>8s} {'shift cm':>9s} {'FWHM cm':>8s} {'back cm':>8s} {'fwd cm':>7s}")
    ok = True
    for name, dw in rows:
        shift, width, back, fwd = shape(dw)
        print(f"{name:34s} {dw.max():8.3f} {shift:+9.1f} {width:8.1f} {back:8.1f} {fwd:7.1f}")
        ok &= bool(-40 <= shift <= 40 and width < TRACK / 2 and dw.max() > 0)
    print("place_field_forms: every model writes a local field at the plateau" if ok else
          "place_field_forms: a check FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
