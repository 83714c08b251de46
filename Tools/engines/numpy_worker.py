#!/usr/bin/env python3
"""A reference engine worker in NumPy alone, for `make test` without torch.

It serves protocol 1 (Tools/engines/wire.py) for models whose weights rbench sends itself: the
random-init control (`load_random`, every matrix drawn by rbench's seeded generator) on a model
declared by its configuration (`load` with source "config"). Llama and Qwen2 block layouts (no
query/key norms, no sublayer-output norms); float32 throughout, like the native engine. It is a
second, independent implementation of the forward pass, resume and readouts the claims use.
"""
import itertools
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from wire import WorkerFailure, serve  # noqa: E402

F32 = np.float32


def rms_norm(x, gain, eps):
    x = x.astype(F32)
    scale = F32(1) / np.sqrt((x * x).sum(axis=-1, keepdims=True, dtype=F32) / F32(x.shape[-1]) + F32(eps))
    return x * scale * gain


def silu(x):
    return x / (F32(1) + np.exp(-x))


class Model:
    def __init__(self, config, weights=None, origin=""):
        self.config, self.weights, self.origin = config, weights, origin

    def require_weights(self):
        if self.weights is None:
            raise WorkerFailure("no_weights", "the NumPy worker holds only models whose weights rbench sends (load_random)")
        return self.weights

    def rope(self, x, positions, base):
        """x: [T, heads, head_dim]; rotates the first rope_dims of each head."""
        c = self.config
        pairs = c["rope_dims"] // 2
        frequency = base ** (-2 * np.arange(pairs, dtype=np.float64) / c["rope_dims"])
        angle = np.asarray(positions, dtype=np.float64)[:, None] * frequency[None, :]
        cos, sin = np.cos(angle).astype(F32)[:, None, :], np.sin(angle).astype(F32)[:, None, :]
        out = x.copy()
        if c["rope_pairing"] == "adjacent":
            a, b = x[..., 0:2 * pairs:2], x[..., 1:2 * pairs:2]
            out[..., 0:2 * pairs:2], out[..., 1:2 * pairs:2] = a * cos - b * sin, a * sin + b * cos
        else:
            a, b = x[..., :pairs], x[..., pairs:2 * pairs]
            out[..., :pairs], out[..., pairs:2 * pairs] = a * cos - b * sin, a * sin + b * cos
        return out

    def qkv(self, block, x, positions):
        c, w = self.config, self.weights["blocks"][block]
        a = rms_norm(x, w["attn_norm"], c["eps"])
        heads, kv_heads, hd = c["n_heads"], c["n_kv_heads"], c["head_dim"]
        q = (a @ w["attn_q"].T).reshape(-1, heads, hd)
        k = (a @ w["attn_k"].T).reshape(-1, kv_heads, hd)
        v = (a @ w["attn_v"].T).reshape(-1, kv_heads, hd)
        base = c["rope_bases"][block]
        return self.rope(q, positions, base), self.rope(k, positions, base), v

    def attend(self, block, q, keys, values, query_positions, key_positions):
        """Each query row attends to the keys at positions ≤ its own (and inside the window)."""
        c = self.config
        group = c["n_heads"] // c["n_kv_heads"]
        window = c["windows"][block]
        keys, values = np.repeat(keys, group, axis=1), np.repeat(values, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, keys) * F32(c["attention_scale"])
        qp, kp = np.asarray(query_positions)[:, None], np.asarray(key_positions)[None, :]
        allowed = kp <= qp
        if window is not None:
            allowed &= kp > qp - window
        scores = np.where(allowed[None], scores, -np.inf)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        return np.einsum("hqk,khd->qhd", scores.astype(F32), values).reshape(len(query_positions), -1)

    def finish_block(self, block, x, attention):
        c, w = self.config, self.weights["blocks"][block]
        mid = x + attention @ w["attn_output"].T
        m = rms_norm(mid, w["ffn_norm"], c["eps"])
        out = mid + (silu(m @ w["ffn_gate"].T) * (m @ w["ffn_up"].T)) @ w["ffn_down"].T
        return mid.astype(F32), out.astype(F32)

    def prefill(self, tokens, edits):
        """All states of one prompt: residual [L+1, T, d], mid [L, T, d], and the K/V cache."""
        c, w = self.config, self.require_weights()
        positions = np.arange(len(tokens))
        x = (w["token_embd"][tokens] * F32(c["embedding_scale"])).astype(F32)
        residual, mid, cache = [], [], []

        def edited(index, state):
            state = state.copy()
            for edit in edits:
                if edit["residual"] == index:
                    p = edit["position"]
                    state[p] = state[p] + edit["vector"] if edit["mode"] == "add" else edit["vector"]
            return state

        x = edited(0, x)
        residual.append(x)
        for b in range(c["n_blocks"]):
            q, k, v = self.qkv(b, x, positions)
            cache.append((k, v))
            m, x = self.finish_block(b, x, self.attend(b, q, k, v, positions, positions))
            x = edited(b + 1, x)
            mid.append(m)
            residual.append(x)
        return np.stack(residual), np.stack(mid), cache

    def resume(self, cache, prompts, states, start, stop):
        """The last position of each row's prompt, re-run from residual `start` through block stop-1."""
        out_states, out_mid = {start: states.copy()}, []
        x = states.copy()
        for b in range(start, stop):
            attention = np.zeros((len(prompts), self.config["n_heads"] * self.config["head_dim"]), F32)
            for r, p in enumerate(prompts):
                keys, values = cache["kv"][p][b]
                position = keys.shape[0] - 1
                q, k, v = self.qkv(b, x[r:r + 1], [position])
                keys, values = np.concatenate([keys[:-1], k]), np.concatenate([values[:-1], v])
                attention[r] = self.attend(b, q, keys, values, [position], np.arange(position + 1))[0]
            m, x = self.finish_block(b, x, attention)
            out_mid.append(m)
            out_states[b + 1] = x
        return out_states, out_mid


class Worker:
    def __init__(self):
        self.models, self.caches, self.ids = {}, {}, itertools.count(1)

    def identity(self, options):
        return {"engine": "numpy-reference", "version": f"numpy {np.__version__}", "device": "cpu", "dtype": "float32"}

    def model(self, args):
        try:
            return self.models[int(args["model"])]
        except KeyError:
            raise WorkerFailure("unknown_model", f"no model {args.get('model')} in this worker")

    def describe(self, handle):
        c = self.models[handle].config
        return {"model": handle, "n_blocks": c["n_blocks"], "d_model": c["d_model"], "vocab": c["vocab"]}

    def load(self, args, arrays):
        if args.get("source") != "config":
            raise WorkerFailure("unsupported", "the NumPy worker loads no files; declare the model by its configuration (source: config)")
        c = args["config"]
        if c.get("qk_norm") or c.get("sublayer_norms") or c.get("activation") != "silu":
            raise WorkerFailure("unsupported", f"the NumPy worker runs Llama/Qwen2 blocks, not {c.get('architecture')}")
        handle = next(self.ids)
        self.models[handle] = Model(c, origin=args.get("origin", ""))
        return self.describe(handle), []

    def load_random(self, args, arrays):
        like = self.model({"model": args["like"]})
        c = like.config
        ordered = [arrays[name] for name in sorted(arrays, key=lambda n: int(n.split(":")[0]))]
        names = [name.split(":")[1] for name in sorted(arrays, key=lambda n: int(n.split(":")[0]))]
        if len(ordered) != 1 + 7 * c["n_blocks"]:
            raise WorkerFailure("bad_input", f"load_random got {len(ordered)} matrices for {c['n_blocks']} blocks")
        d = c["d_model"]
        weights = {"token_embd": ordered[0].astype(F32), "output_norm": np.ones(d, F32), "blocks": []}
        for b in range(c["n_blocks"]):
            block = {"attn_norm": np.ones(d, F32), "ffn_norm": np.ones(d, F32)}
            for name, matrix in zip(names[1 + 7 * b:8 + 7 * b], ordered[1 + 7 * b:8 + 7 * b]):
                block[name.split(".")[0]] = matrix.astype(F32)
            weights["blocks"].append(block)
        handle = next(self.ids)
        self.models[handle] = Model(c, weights, args.get("origin", ""))
        return self.describe(handle), []

    def prefill(self, args, arrays):
        model = self.model(args)
        tokens, lengths = arrays["tokens"].astype(np.int64), arrays["lengths"].astype(np.int64)
        hooks, last = args["hooks"], args.get("positions") == "last"
        edits = [dict(e, vector=arrays[e["vector"]].astype(F32)) for e in args.get("edits", [])]
        rows, kv, start = [], [], 0
        for i, length in enumerate(lengths):
            residual, mid, cache = model.prefill(tokens[start:start + length], [e for e in edits if e["prompt"] == i])
            start += length
            kv.append(cache)
            picked = []
            for hook in hooks:
                if hook == "final_norm":
                    state = rms_norm(residual[-1], model.weights["output_norm"], model.config["eps"])
                else:
                    kind, index = hook.split(":")
                    state = (residual if kind == "resid" else mid)[int(index)]
                picked.append(state[-1:] if last else state)
            rows.append(np.stack(picked, axis=1))  # [positions, hooks, d]
        result = {}
        if args.get("keep_cache"):
            handle = next(self.ids)
            self.caches[handle] = {"model": int(args["model"]), "kv": kv}
            result["cache"] = handle
        return result, [("capture", np.concatenate(rows).astype(F32))]

    def resume(self, args, arrays):
        model = self.model(args)
        cache = self.caches.get(int(args["cache"]))
        if cache is None or cache["model"] != int(args["model"]):
            raise WorkerFailure("unknown_cache", f"no cache {args['cache']} of model {args['model']}")
        states, mid = model.resume(cache, arrays["prompts"].astype(np.int64), arrays["states"].astype(F32),
                                   int(args["start"]), int(args["stop"]))
        captured = np.stack([states[i] for i in args["capture"]], axis=1) if args["capture"] else np.zeros((len(arrays["prompts"]), 0, model.config["d_model"]), F32)
        out = [("captured", captured)]
        if args.get("capture_mid"):
            out.append(("mid", np.stack(mid, axis=1)))
        return {}, out

    def final_norm(self, args, arrays):
        model = self.model(args)
        return {}, [("out", rms_norm(arrays["states"], model.require_weights()["output_norm"], model.config["eps"]))]

    def logits(self, args, arrays):
        model = self.model(args)
        w = model.require_weights()
        x = arrays["states"] if args.get("normalized") else rms_norm(arrays["states"], w["output_norm"], model.config["eps"])
        return {}, [("out", x.astype(F32) @ w["token_embd"].T)]

    def gate(self, args, arrays):
        model = self.model(args)
        block = model.require_weights()["blocks"][int(args["block"])]
        return {}, [("out", rms_norm(arrays["states"], block["ffn_norm"], model.config["eps"]) @ block["ffn_gate"].T)]

    def top_k(self, args, arrays):
        _, [(_, logits)] = self.logits(dict(args, normalized=False), arrays)
        k = int(args["k"])
        order = np.lexsort((np.broadcast_to(np.arange(logits.shape[1]), logits.shape), -logits), axis=1)[:, :k]
        return {}, [("ids", order.astype(np.int32)), ("logits", np.take_along_axis(logits, order, axis=1))]

    def release(self, handle):
        self.caches.pop(int(handle), None)


def main():
    worker = Worker()
    handlers = {name: getattr(worker, name) for name in
                ["load", "load_random", "prefill", "resume", "final_norm", "logits", "gate", "top_k"]}
    handlers["__release__"] = worker.release
    serve(handlers, worker.identity)


if __name__ == "__main__":
    main()
