#!/usr/bin/env python3
"""Recompute TD-2 (densification) from a states folder with NumPy alone, and compare with the
metrics the run recorded in its manifest.

    python3 Tools/states/recompute_td2.py STATES_DIR [--subject model] [--massive-units 5]

Reads manifest.json, the TD-2 check's state set (TransformerLens hook names) and its bootstrap
draw (the unit indices of every replicate), recomputes every TD-2 metric — the Hoyer densities
per layer with and without the massive units, the share of units above the RMS, the density of
the mean vector, Spearman(l, rho_excl) over l = 1..L, delta rho over the thirds of the depth, and
the percentile intervals — and prints the largest difference from the recorded values. Exit 0
when every value agrees within --tolerance (relative), 1 otherwise.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np


def hoyer(x):
    """(||x||_1 / ||x||_2)^2 / D along the last axis."""
    l1 = np.abs(x).sum(axis=-1)
    l2 = (x * x).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(l2 > 0, l1 * l1 / l2 / x.shape[-1], np.nan)


def ranks(v):
    """Average ranks (1-based), ties sharing the mean of their positions."""
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    i = 0
    sorted_v = v[order]
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    a, b = ranks(np.asarray(x, float)), ranks(np.asarray(y, float))
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else math.nan


def thirds(layers):
    """Layers 1..L by third: layer l is in third ceil(3l/L) (claims spec 0.7)."""
    part = {1: [], 2: [], 3: []}
    for l in range(1, layers + 1):
        part[(3 * 2 * l + 2 * layers - 1) // (2 * layers)].append(l)
    return part


def percentile_interval(values, level):
    """Type-7 quantiles at alpha/2 and 1 - alpha/2 of the finite replicate values."""
    finite = np.sort(values[np.isfinite(values)])
    alpha = 1 - level
    if len(finite) == 0 or len(values) - len(finite) > alpha * len(values):
        return (-math.inf, math.inf)
    def q(p):
        h = (len(finite) - 1) * p
        lo = int(math.floor(h)); hi = min(lo + 1, len(finite) - 1)
        return finite[lo] + (h - lo) * (finite[hi] - finite[lo])
    return (q(alpha / 2), q(1 - alpha / 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("states")
    parser.add_argument("--subject", default="model")
    parser.add_argument("--massive-units", type=int, default=5)
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--tolerance", type=float, default=1e-12)
    parser.add_argument("--run", help="the run file (runs/<id>.json) to compare with, instead of the manifest's metrics")
    args = parser.parse_args()

    with open(os.path.join(args.states, "manifest.json")) as f:
        manifest = json.load(f)
    check = next((c for c in manifest["checks"] if c["check"] == "TD-2" and c["subject"] == args.subject), None)
    if check is None:
        sys.exit(f"{args.states}/manifest.json: no TD-2 check for subject {args.subject}")
    state_set = next(s for s in manifest["state_sets"] if s["name"] == check["state_sets"][0])
    blocks = manifest["models"][state_set["model"]]["n_blocks"]
    load = lambda entry: np.load(os.path.join(args.states, entry["file"]))
    hooks = [f"blocks.{l}.hook_resid_pre" for l in range(blocks)] + [f"blocks.{blocks - 1}.hook_resid_post"]
    residual = np.stack([load(state_set["hooks"][h]).astype(np.float64) for h in hooks])  # [L+1, N, D]
    layer_count, n, width = residual.shape
    draw = next(d for d in check["draws"] if d["name"] == f"bootstrap_n{n}")
    bootstrap = load(draw["array"])  # [replicates, N] unit indices

    mean_abs = np.abs(residual).sum(axis=(0, 1))
    massive = np.argsort(-mean_abs, kind="stable")[: args.massive_units]
    kept = np.setdiff1d(np.arange(width), massive)

    per_sample = hoyer(residual[:, :, kept]).T  # [N, L+1]
    rho_kept = per_sample.mean(axis=0)
    rms = np.sqrt((residual * residual).sum(axis=2) / width)
    computed = {f"massive_unit[{u}]": float(u) for u in sorted(massive)}
    for l in range(layer_count):
        computed[f"rho_all[{l}]"] = float(hoyer(residual[l]).mean())
        computed[f"frac_above_rms[{l}]"] = float((np.abs(residual[l]) > rms[l][:, None]).sum(axis=1).mean() / width)
        computed[f"rho_mean_vector[{l}]"] = float(hoyer(residual[l].mean(axis=0)))
    layers = list(range(1, blocks + 1))
    part = thirds(blocks)
    def summaries(rho):
        return spearman(layers, [rho[l] for l in layers]), float(np.mean([rho[l] for l in part[3]]) - np.mean([rho[l] for l in part[1]]))

    # Replicate means: unit n drawn k times weighs k/N.
    weights = np.zeros((len(bootstrap), n))
    for r, drawn in enumerate(bootstrap):
        np.add.at(weights[r], drawn, 1.0 / n)
    replicate_means = weights @ per_sample
    intervals = {}
    for l in range(layer_count):
        computed[f"rho_excl_massive[{l}]"] = float(rho_kept[l])
        intervals[f"rho_excl_massive[{l}]"] = percentile_interval(replicate_means[:, l], args.level)
    point = summaries(rho_kept)
    replicates = np.array([summaries(m) for m in replicate_means])
    computed["spearman_rho_excl"], computed["delta_rho_excl"] = point
    intervals["spearman_rho_excl"] = percentile_interval(replicates[:, 0], args.level)
    intervals["delta_rho_excl"] = percentile_interval(replicates[:, 1], args.level)

    if args.run:
        with open(args.run) as f:
            run = json.load(f)
        result = next(r for r in run["results"] if r["claimID"] == "TD-2" and r["subject"] == args.subject)
        recorded = {}
        for m in result["metrics"]:
            key = m["name"] if m.get("layer") is None else f"{m['name']}[{m['layer']}]"
            value = struct.unpack(">d", bytes.fromhex(m["bits"]))[0]
            interval = m.get("interval") or {}
            recorded[key] = {"value": value, "low": interval.get("low"), "high": interval.get("high")}
    elif check.get("metrics") is None:
        sys.exit(f"{args.states}/manifest.json: TD-2 {args.subject} has no recorded metrics; pass --run runs/<id>.json")
    else:
        recorded = {m["key"]: m for m in check["metrics"]}
    worst, worst_key, exact, compared = 0.0, None, 0, 0
    def compare(key, mine, theirs):
        nonlocal worst, worst_key, exact, compared
        compared += 1
        if mine == theirs:
            exact += 1
            return
        difference = abs(mine - theirs) / max(abs(theirs), 1e-300)
        if not difference <= worst:
            worst, worst_key = difference, key
    missing = [k for k in computed if k not in recorded]
    for key, value in computed.items():
        if key in recorded:
            compare(key, value, recorded[key]["value"])
            if key in intervals:
                compare(key + " low", intervals[key][0], recorded[key]["low"])
                compare(key + " high", intervals[key][1], recorded[key]["high"])
    print(f"TD-2 {args.subject}: {compared} values recomputed with NumPy from {args.states}; {exact} equal bit for bit, "
          f"largest relative difference {worst:.3g}" + (f" ({worst_key})" if worst_key else ""))
    print(f"  spearman_rho_excl {computed['spearman_rho_excl']!r} (recorded {recorded['spearman_rho_excl']['value']!r}), "
          f"delta_rho_excl {computed['delta_rho_excl']!r} (recorded {recorded['delta_rho_excl']['value']!r})")
    if missing:
        print(f"  not in the manifest: {', '.join(missing)}")
    sys.exit(0 if worst <= args.tolerance and not missing else 1)


if __name__ == "__main__":
    main()
