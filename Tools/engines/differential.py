#!/usr/bin/env python3
"""Differential gate between two engines: compares the newest run file of each results folder.

    python3 Tools/engines/differential.py results/engines/native results/engines/transformers [--tolerance 1e-3] [--share 0.99]
        [--sensitivity results/engines/perturbed ...] [--margin 3]

Fails (exit 1) if any check or control has another verdict, or if fewer than `--share` of the model
metrics (every non-timing metric of every check × subject) agree within `--tolerance` relative
(|a − b| ≤ tol · max(|a|, |b|), or both below 1e-12). Prints the agreement and the worst metrics.

Some metrics amplify the engines' float32 disagreement (about 1e-6 relative in the states) far
beyond 1e-3. On SmolLM2, LoT-3's greedy basis alignment has near-ties among its tail directions:
when the native engine's own states are perturbed by 1e-6 (Tools/states/perturb.py, replayed with
`rbench run --states`), three seeds in eight take another branch. One of them (seed 5) takes the
branch transformers' states take, and LoT-3's metrics then agree with transformers' in 1,203 of
1,232 (A3 moves by up to 5 %, a Q-Q quantile changes sign). With `--sensitivity RUN_DIR` (repeatable: such replays, each with another seed), a metric
beyond the tolerance still agrees when the engines differ by no more than `--margin` times the
largest drift the perturbations caused in it; the gate is then on that share, and both shares are
printed. A metric that noise of the engines' own size moves that far cannot tell the engines apart.
"""
import argparse
import glob
import json
import math
import os
import sys


def check(result):
    return f"{result['claimID']}/{result['subject']}"


def newest_run(folder):
    files = sorted(glob.glob(os.path.join(folder, "runs", "*.json")), key=os.path.getmtime)
    if not files:
        sys.exit(f"{folder}/runs: no run file (run `rbench run --db {folder}/rbench.sqlite` first)")
    with open(files[-1]) as f:
        return files[-1], json.load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--share", type=float, default=0.99)
    parser.add_argument("--sensitivity", action="append", default=[])
    parser.add_argument("--margin", type=float, default=3.0)
    args = parser.parse_args()
    (reference_file, reference), (candidate_file, candidate) = newest_run(args.reference), newest_run(args.candidate)
    # The largest drift of each metric under the perturbations of the reference's own states.
    floors = {}
    for folder in args.sensitivity:
        _, perturbed = newest_run(folder)
        for result in perturbed["results"]:
            for metric in result.get("metrics", []):
                floors.setdefault((check(result), metric["name"], metric.get("layer")), []).append(metric["value"])
    engines = [run.get("environment", {}).get("engine") or {"name": "native"} for run in (reference, candidate)]
    print(f"reference {reference_file} ({engines[0].get('name')}), candidate {candidate_file} ({engines[1].get('name')} {engines[1].get('version', '')} {engines[1].get('device', '')})")
    by_check = {check(r): r for r in candidate["results"]}
    flips, compared, agreeing, explained, worst = [], 0, 0, 0, []
    for result in reference["results"]:
        other = by_check.get(check(result))
        if other is None:
            flips.append(f"{check(result)}: missing from the candidate run")
            continue
        if other["verdict"] != result["verdict"]:
            flips.append(f"{check(result)}: {result['verdict']} → {other['verdict']}")
        theirs = {(m["name"], m.get("layer")): m for m in other.get("metrics", [])}
        for metric in result.get("metrics", []):
            if metric.get("samples") is not None:
                continue  # timings are not model metrics
            twin = theirs.get((metric["name"], metric.get("layer")))
            compared += 1
            if twin is None:
                worst.append((math.inf, check(result), metric["name"], metric.get("layer"), metric["value"], None))
                continue
            a, b = metric["value"], twin["value"]
            scale = max(abs(a), abs(b))
            relative = 0.0 if scale < 1e-12 or a == b else abs(a - b) / scale
            if isinstance(a, float) and math.isnan(a) and math.isnan(b):
                relative = 0.0
            if relative <= args.tolerance:
                agreeing += 1
            else:
                drifts = [abs(v - a) for v in floors.get((check(result), metric["name"], metric.get("layer")), []) if not math.isnan(v)]
                if drifts and abs(a - b) <= args.margin * max(drifts):
                    explained += 1
                    continue
            worst.append((relative, check(result), metric["name"], metric.get("layer"), a, b))
    share = agreeing / compared if compared else 0.0
    judged = (agreeing + explained) / compared if compared else 0.0
    print(f"verdicts: {len(reference['results']) - len(flips)} of {len(reference['results'])} checks and controls agree")
    for flip in flips:
        print(f"  VERDICT DIFFERS {flip}")
    print(f"metrics: {agreeing} of {compared} within {args.tolerance:g} relative ({100 * share:.2f} %)")
    if args.sensitivity:
        print(f"  and {explained} more within {args.margin:g}× the drift {len(args.sensitivity)} perturbation(s) of the reference's states caused: "
              f"{agreeing + explained} of {compared} ({100 * judged:.2f} %)")
        share = judged
    print("largest differences (after those the perturbations explain):" if worst else "no metric differs")
    for relative, where, name, layer, a, b in sorted(worst, key=lambda w: -w[0])[:8]:
        print(f"  {relative:.3g}  {where} {name}{'' if layer is None else f'[{layer}]'}  {a!r} vs {b!r}")
    sys.exit(0 if not flips and share >= args.share else 1)


if __name__ == "__main__":
    main()
