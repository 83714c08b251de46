#!/usr/bin/env python3
"""The HF transformers engine worker: serves rbench's worker protocol 1 (Tools/engines/wire.py) with a
model loaded by `transformers` (a GGUF file through `gguf_file`, or a local HF model folder).

Residual points follow TransformerLens: resid:l is the input of decoder layer l (resid:L the input of
the final norm), mid:b the residual after layer b's attention update (the input of its MLP norm), and
final_norm the final norm's output. Every state is read and edited through forward hooks, so any
decoder-only model of the Llama family (Llama, Qwen2, Gemma 3) runs unmodified.

A prefill that keeps its cache keeps every layer's keys and values of all positions but the last
(causal attention leaves them as they were whatever a resume does at the last position). A resume then
runs only the last token on that cache, with its residual replaced at `start`: one position instead of
a prefill each. If the cache would outgrow RBENCH_WORKER_CACHE_BYTES (default 4 GiB) the worker keeps
only the token ids and each resume re-runs its whole prompt instead; both give the same states up to
float32 rounding.
"""
import copy
import inspect
import os
import sys

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wire import WorkerFailure, serve  # noqa: E402


# Tokens per prefill batch: prompts of one length are stacked up to this many tokens.
PREFILL_BATCH_TOKENS = 2048
# The keys and values all kept caches may hold together before resumes fall back to re-running prompts.
CACHE_BYTES = int(os.environ.get("RBENCH_WORKER_CACHE_BYTES", 4 << 30))


class StopForward(Exception):
    """Raised by a hook once every state a request needs has been seen."""


class Held:
    def __init__(self, model, family):
        self.model, self.family = model, family
        inner = model.model
        self.layers, self.norm, self.embed = inner.layers, inner.norm, inner.embed_tokens
        self.blocks = len(self.layers)
        self.width = model.config.hidden_size
        self.vocab = model.config.vocab_size
        # transformers 5.x renamed the decoder's `past_key_values` argument to `cache`.
        self.cache_argument = "cache" if "cache" in inspect.signature(inner.forward).parameters else "past_key_values"

    def mlp_norm(self, b):
        layer = self.layers[b]
        return layer.pre_feedforward_layernorm if hasattr(layer, "pre_feedforward_layernorm") else layer.post_attention_layernorm


class Worker:
    def __init__(self):
        self.models, self.caches, self.next_id = {}, {}, 1
        self.cached_bytes = 0
        self.device = "cpu"
        self.dtype = torch.float32

    def new_id(self):
        self.next_id += 1
        return self.next_id - 1

    def identity(self, options):
        requested = options.get("device") if isinstance(options, dict) else None
        self.device = requested or ("cuda" if torch.cuda.is_available() else "cpu")
        torch.manual_seed(0)
        return {"engine": "transformers", "version": f"transformers {transformers.__version__}, torch {torch.__version__}",
                "device": self.device if self.device != "cuda" else f"cuda:{torch.cuda.current_device()} ({torch.cuda.get_device_name()})",
                "dtype": "float32"}

    def held(self, args):
        try:
            return self.models[int(args["model"])]
        except KeyError:
            raise WorkerFailure("unknown_model", f"no model {args.get('model')} in this worker")

    def describe(self, handle):
        h = self.models[handle]
        return {"model": handle, "n_blocks": h.blocks, "d_model": h.width, "vocab": h.vocab,
                "class": type(h.model).__name__}

    def load(self, args, arrays):
        source, path = args.get("source"), args.get("path")
        kwargs = {"dtype": self.dtype}
        if self.device == "cuda":
            kwargs["device_map"] = "auto"
        if source == "gguf":
            model = transformers.AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), **kwargs)
        elif source == "folder":
            model = transformers.AutoModelForCausalLM.from_pretrained(path, **kwargs)
        else:
            raise WorkerFailure("unsupported", f"load source {source!r}: the transformers worker loads gguf or folder")
        if self.device != "cuda":
            model = model.to(self.device)
        model.eval()
        handle = self.new_id()
        self.models[handle] = Held(model, args.get("config", {}))
        return self.describe(handle), []

    def load_random(self, args, arrays):
        """The random-init control with rbench's own draws: every matrix in GGUF layout, converted to HF's."""
        like = self.held({"model": args["like"]})
        family = like.family
        config = copy.deepcopy(like.model.config)
        config.tie_word_embeddings = True
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=self.dtype)
        ordered = sorted(arrays, key=lambda n: int(n.split(":")[0]))
        if len(ordered) != 1 + 7 * like.blocks:
            raise WorkerFailure("bad_input", f"load_random got {len(ordered)} matrices for {like.blocks} blocks")
        gemma = config.model_type.startswith("gemma")
        adjacent = family.get("rope_pairing") == "adjacent"
        heads, kv_heads = config.num_attention_heads, config.num_key_value_heads

        def unpermute(w, n):
            # GGUF stores Llama's Q/K rows interleaved for adjacent-pair RoPE; HF rotates halves.
            return w.reshape(n, w.shape[0] // n // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape) if adjacent else w

        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if parameter.dim() == 1:
                    # Norm gains 1 (Gemma stores gain − 1), biases 0.
                    parameter.fill_(0.0 if gemma or name.endswith("bias") else 1.0)
            inner = model.model
            inner.embed_tokens.weight.copy_(t(arrays[ordered[0]]))
            for b, layer in enumerate(inner.layers):
                names = ordered[1 + 7 * b: 8 + 7 * b]
                q, k, v, o, gate, up, down = (arrays[n] for n in names)
                layer.self_attn.q_proj.weight.copy_(t(unpermute(q, heads)))
                layer.self_attn.k_proj.weight.copy_(t(unpermute(k, kv_heads)))
                layer.self_attn.v_proj.weight.copy_(t(v))
                layer.self_attn.o_proj.weight.copy_(t(o))
                layer.mlp.gate_proj.weight.copy_(t(gate))
                layer.mlp.up_proj.weight.copy_(t(up))
                layer.mlp.down_proj.weight.copy_(t(down))
            model.tie_weights()
        model = model.to(self.device).eval()
        handle = self.new_id()
        self.models[handle] = Held(model, family)
        return self.describe(handle), []

    def run(self, held, batch, wanted, edits, stop=None, cache=None, first_position=0):
        """Runs `batch` [B, T] token ids; `wanted` is a set of hook names; `edits[(index)]` is a list of
        (row, position, mode, vector). Returns {hook: tensor [B, T, d]}; stops after block stop-1 if given.
        With `cache` (a DynamicCache holding `first_position` earlier positions) the batch continues it."""
        seen, handles = {}, []

        def apply(index, hidden):
            for row, position, mode, vector in edits.get(index, []):
                hidden = hidden.clone() if not hidden.is_inference() else hidden
                if mode == "add":
                    hidden[row, position] += vector
                else:
                    hidden[row, position] = vector
            return hidden

        def pre_layer(index):
            def hook(module, args, kwargs):
                if stop is not None and index >= stop:
                    raise StopForward
                hidden = args[0] if args else kwargs["hidden_states"]
                hidden = apply(index, hidden)
                if f"resid:{index}" in wanted:
                    seen[f"resid:{index}"] = hidden.detach()
                if args:
                    return (hidden,) + tuple(args[1:]), kwargs
                kwargs["hidden_states"] = hidden
                return args, kwargs
            return hook

        def pre_mid(index):
            def hook(module, args):
                if f"mid:{index}" in wanted:
                    seen[f"mid:{index}"] = args[0].detach()
            return hook

        def post_norm(module, args, output):
            if "final_norm" in wanted:
                seen["final_norm"] = output.detach()

        try:
            for l, layer in enumerate(held.layers):
                handles.append(layer.register_forward_pre_hook(pre_layer(l), with_kwargs=True))
                handles.append(held.mlp_norm(l).register_forward_pre_hook(pre_mid(l)))
            handles.append(held.norm.register_forward_pre_hook(pre_layer(held.blocks), with_kwargs=True))
            handles.append(held.norm.register_forward_hook(post_norm))
            with torch.inference_mode(False), torch.no_grad():
                try:
                    if cache is None:
                        held.model.model(input_ids=batch.to(self.device), use_cache=False)
                    else:
                        positions = torch.arange(first_position, first_position + batch.shape[1], device=self.device)
                        held.model.model(input_ids=batch.to(self.device), use_cache=True, position_ids=positions.expand(batch.shape[0], -1),
                                         **{held.cache_argument: cache})
                except StopForward:
                    pass
        finally:
            for handle in handles:
                handle.remove()
        return seen

    def prefill(self, args, arrays):
        held = self.held(args)
        tokens, lengths = arrays["tokens"].astype(np.int64), arrays["lengths"].astype(np.int64)
        hooks, last = args["hooks"], args.get("positions") == "last"
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        edits_by_prompt = {}
        for edit in args.get("edits", []):
            edits_by_prompt.setdefault(edit["prompt"], []).append(edit)
        # Prompts of one length run together (no padding, so no attention mask can change a state),
        # up to PREFILL_BATCH_TOKENS tokens a batch; each keeps its own edits by its row in the batch.
        rows = [None] * len(lengths)
        keep = bool(args.get("keep_cache"))
        # Each prompt's keys and values, all positions but the last, while they fit the budget.
        kept = [None] * len(lengths) if keep else None
        budget = CACHE_BYTES - self.cached_bytes
        needed = sum(self.prefix_bytes(held, int(n)) for n in lengths) if keep else 0
        keep_states = keep and needed <= budget
        by_length = {}
        for i, length in enumerate(lengths):
            by_length.setdefault(int(length), []).append(i)
        for length, members in by_length.items():
            per_batch = max(1, PREFILL_BATCH_TOKENS // max(1, length))
            for first in range(0, len(members), per_batch):
                chunk = members[first:first + per_batch]
                batch = torch.from_numpy(np.stack([tokens[offsets[i]:offsets[i + 1]] for i in chunk]))
                edits = {}
                for row, i in enumerate(chunk):
                    for e in edits_by_prompt.get(i, []):
                        vector = torch.from_numpy(arrays[e["vector"]].copy()).to(self.device)
                        edits.setdefault(e["residual"], []).append((row, e["position"], e["mode"], vector))
                cache = transformers.DynamicCache(config=held.model.config) if keep_states else None
                seen = self.run(held, batch, set(hooks), edits, cache=cache)
                picked = torch.stack([seen[h] for h in hooks], dim=2)  # [B, T, hooks, d]
                for row, i in enumerate(chunk):
                    rows[i] = (picked[row, -1:] if last else picked[row]).float().cpu().numpy()
                if cache is not None:
                    layers = [(layer.keys, layer.values) for layer in cache.layers]
                    if any(k.shape[-2] != length for k, _ in layers):
                        keep_states = False  # a sliding window dropped positions: re-run prompts instead
                        kept = [None] * len(lengths)
                    else:
                        for row, i in enumerate(chunk):
                            kept[i] = [(k[row, :, :length - 1].clone(), v[row, :, :length - 1].clone()) for k, v in layers]
        result = {}
        if keep:
            handle = self.new_id()
            entry = {"model": int(args["model"]), "prompts": [tokens[offsets[i]:offsets[i + 1]] for i in range(len(lengths))]}
            if keep_states:
                entry["states"], entry["bytes"] = kept, needed
                self.cached_bytes += needed
            self.caches[handle] = entry
            result["cache"] = handle
        return result, [("capture", np.concatenate(rows))]

    def resume(self, args, arrays):
        held = self.held(args)
        cache = self.caches.get(int(args["cache"]))
        if cache is None or cache["model"] != int(args["model"]):
            raise WorkerFailure("unknown_cache", f"no cache {args['cache']} of model {args['model']}")
        start, stop, capture = int(args["start"]), int(args["stop"]), list(args["capture"])
        prompts, states = arrays["prompts"].astype(np.int64), arrays["states"]
        wanted = {f"resid:{i}" for i in capture} | ({f"mid:{b}" for b in range(start, stop)} if args.get("capture_mid") else set())
        n = len(prompts)
        captured = np.zeros((n, len(capture), held.width), np.float32)
        mid = np.zeros((n, stop - start, held.width), np.float32)
        by_length = {}
        for r, p in enumerate(prompts):
            by_length.setdefault(len(cache["prompts"][p]), []).append(r)
        kept = cache.get("states")
        for length, members in by_length.items():
            rows_per_batch = 256 if kept is not None else 64
            for first in range(0, len(members), rows_per_batch):
                chunk = members[first:first + rows_per_batch]
                vectors = torch.from_numpy(states[chunk].copy()).to(self.device)
                until = None if stop >= held.blocks else stop + 1
                if kept is not None and length > 1:
                    # Only the last position runs, on the prompts' kept keys and values.
                    batch = torch.from_numpy(np.stack([cache["prompts"][prompts[r]][-1:] for r in chunk]))
                    prefix = transformers.DynamicCache(config=held.model.config)
                    for l in range(held.blocks):
                        prefix.update(torch.stack([kept[prompts[r]][l][0] for r in chunk]),
                                      torch.stack([kept[prompts[r]][l][1] for r in chunk]), l)
                    edits = {start: [(i, 0, "replace", vectors[i]) for i in range(len(chunk))]}
                    seen = self.run(held, batch, wanted | {f"resid:{start}"}, edits, stop=until, cache=prefix, first_position=length - 1)
                else:
                    batch = torch.from_numpy(np.stack([cache["prompts"][prompts[r]] for r in chunk]))
                    edits = {start: [(i, length - 1, "replace", vectors[i]) for i in range(len(chunk))]}
                    seen = self.run(held, batch, wanted | {f"resid:{start}"}, edits, stop=until)
                for slot, index in enumerate(capture):
                    captured[chunk, slot] = seen[f"resid:{index}"][:, -1].float().cpu().numpy()
                if args.get("capture_mid"):
                    for b in range(start, stop):
                        mid[chunk, b - start] = seen[f"mid:{b}"][:, -1].float().cpu().numpy()
        out = [("captured", captured)]
        if args.get("capture_mid"):
            out.append(("mid", mid))
        return {}, out

    def tensor(self, arrays):
        return torch.from_numpy(arrays["states"].copy()).to(self.device)

    def final_norm(self, args, arrays):
        held = self.held(args)
        with torch.no_grad():
            return {}, [("out", held.norm(self.tensor(arrays)).float().cpu().numpy())]

    def logits(self, args, arrays):
        held = self.held(args)
        with torch.no_grad():
            x = self.tensor(arrays)
            if not args.get("normalized"):
                x = held.norm(x)
            return {}, [("out", held.model.lm_head(x).float().cpu().numpy())]

    def gate(self, args, arrays):
        held = self.held(args)
        b = int(args["block"])
        with torch.no_grad():
            return {}, [("out", held.layers[b].mlp.gate_proj(held.mlp_norm(b)(self.tensor(arrays))).float().cpu().numpy())]

    def top_k(self, args, arrays):
        _, [(_, logits)] = self.logits(dict(args, normalized=False), arrays)
        k = int(args["k"])
        order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
        return {}, [("ids", order.astype(np.int32)), ("logits", np.take_along_axis(logits, order, axis=1))]

    def replace_blocks(self, args, arrays):
        held, donor = self.held(args), self.held({"model": args["donor"]})
        model = copy.deepcopy(held.model)
        for b in range(int(args["start"]), int(args["end"])):
            model.model.layers[b].load_state_dict(donor.layers[b].state_dict())
        handle = self.new_id()
        self.models[handle] = Held(model, held.family)
        return self.describe(handle), []

    def prefix_bytes(self, held, length):
        """What one prompt's kept keys and values take: every layer, all positions but the last."""
        config = held.model.config
        head = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return held.blocks * 2 * config.num_key_value_heads * max(0, length - 1) * head * self.dtype.itemsize

    def release(self, handle):
        entry = self.caches.pop(int(handle), None)
        if entry is not None:
            self.cached_bytes -= entry.get("bytes", 0)


def main():
    torch.set_grad_enabled(False)
    worker = Worker()
    handlers = {name: getattr(worker, name) for name in
                ["load", "load_random", "prefill", "resume", "final_norm", "logits", "gate", "top_k", "replace_blocks"]}
    handlers["__release__"] = worker.release
    serve(handlers, worker.identity)


if __name__ == "__main__":
    main()
