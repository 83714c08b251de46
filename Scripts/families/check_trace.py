#!/usr/bin/env python3
"""Compares `rbench trace --positions all` on each family fixture with its transformers reference.

  for f in llama qwen2 qwen3 gemma3 gemma2 phi3 gpt2 stablelm; do
    .build/release/rbench trace --model Tests/Fixtures/families/$f/model.gguf \
      --tokens Tests/Fixtures/families/$f/tokens.json --positions all --out /tmp/trace-$f
  done
  python3 Scripts/families/check_trace.py /tmp/trace-    # needs only numpy

Prints the worst rms relative error per layer and of the last-position logits; exits 1 above 1e-4.
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "families"


def main(prefix):
    failed = False
    for folder in sorted(ROOT.iterdir()):
        family = folder.name
        reference = np.load(folder / "residuals.npy")
        logits = np.load(folder / "logits.npy")
        tokens = json.loads((folder / "tokens.json").read_text())["tokens"]
        trace = Path(prefix + family)
        worst = np.zeros(reference.shape[1])
        for p, ids in enumerate(tokens):
            mine = np.load(trace / f"residual_{p}.npy").astype(np.float64)  # [tokens, layers+1, width]
            ref = reference[p, :, : len(ids), :].transpose(1, 0, 2)
            error = np.sqrt(((mine - ref) ** 2).sum(-1) / np.maximum((ref ** 2).sum(-1), 1e-300))
            worst = np.maximum(worst, error.max(0))
        last = np.stack([logits[p, len(ids) - 1] for p, ids in enumerate(tokens)])
        traced = np.load(trace / "logits.npy").astype(np.float64)
        logit_error = np.sqrt(((traced - last) ** 2).sum() / (last ** 2).sum())
        failed |= worst.max() > 1e-4 or logit_error > 1e-4
        print(f"{family:9s} worst layer {worst.max():.1e} (per layer {' '.join(f'{x:.1e}' for x in worst)}), "
              f"last-position logits {logit_error:.1e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/trace-")
