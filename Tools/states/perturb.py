#!/usr/bin/env python3
"""Copy a states folder with every state multiplied by (1 + eps * N(0, 1)), element by element.

    python3 Tools/states/perturb.py STATES_DIR OUT_DIR [--eps 1e-6] [--seed 7]

Two float32 engines that both compute a model correctly still disagree in the states, by about a
float32 rounding error per layer: natively vs transformers on SmolLM2, 0.4–1.0e-6 relative (rms over
the states of a layer). `rbench run --states OUT_DIR` on the perturbed copy then shows how much each
capture-only metric moves under a disagreement of that size and no other: the floor that
`Tools/engines/differential.py --sensitivity` holds an engine's drift to. Tokens and draws are copied
as they are; the manifest keeps its metrics (the replay records its own).
"""
import argparse
import glob
import os
import shutil

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("states")
    parser.add_argument("out")
    parser.add_argument("--eps", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.states, "manifest.json")):
        raise SystemExit(f"{args.states}: no manifest.json (write one with `rbench run --save-states {args.states}`)")
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    shutil.copytree(args.states, args.out)
    rng = np.random.default_rng(args.seed)
    arrays = sorted(f for f in glob.glob(os.path.join(args.out, "sets", "*", "*.npy")) if not f.endswith("tokens.npy"))
    for path in arrays:
        x = np.load(path)
        noise = 1 + args.eps * rng.standard_normal(x.shape)
        np.save(path, (x.astype(np.float64) * noise).astype(x.dtype))
    for path in glob.glob(os.path.join(args.out, "sets", "*", "*.safetensors")):
        os.remove(path)  # stale: the .npy files are the perturbed ones
    print(f"{len(arrays)} state arrays perturbed by eps = {args.eps:g} (seed {args.seed}) into {args.out}")


if __name__ == "__main__":
    main()
