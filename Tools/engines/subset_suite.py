#!/usr/bin/env python3
"""Write a suite that keeps only some claims of another, with their controls, sizes and seeds.

    python3 Tools/engines/subset_suite.py Suites/smoke.yaml LoT-3 [CLAIM ...] > OUT.yaml

The copy is named `<suite>-<claims>` so that it is never judged against the full suite's
baselines. `make test-engines` uses it to replay one check on many perturbed copies of the same
states cheaply: a claim's metrics do not depend on which other claims share its run.
"""
import sys

import yaml


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: subset_suite.py SUITE.yaml CLAIM [CLAIM ...]")
    path, wanted = sys.argv[1], sys.argv[2:]
    with open(path) as f:
        suite = yaml.safe_load(f)
    claims = suite.get("claims") or []
    known = [c.get("id") for c in claims]
    missing = [w for w in wanted if w not in known]
    if missing:
        raise SystemExit(f"{path}: no claim {', '.join(missing)} (it has {', '.join(map(str, known))})")
    suite["claims"] = [c for c in claims if c.get("id") in wanted]
    suite["suite"] = f"{suite['suite']}-{'-'.join(w.lower() for w in wanted)}"
    yaml.safe_dump(suite, sys.stdout, sort_keys=False, default_flow_style=None)


if __name__ == "__main__":
    main()
