#!/usr/bin/env python3
"""Tiny random-weight GGUF models, one per architecture family, and their references.

For each family this writes, under Tests/Fixtures/families/<family>/:
  model.gguf       a tiny model with random weights, in llama.cpp's conventions for that
                   architecture (tensor names, Q/K permutation for llama, Gemma's norm +1,
                   GPT-2's [out, in] matrices, the metadata keys llama.cpp reads);
  tokens.json      the prompts (token ids) the reference was computed on;
  residuals.npy    float64 [prompt][layer 0...L][position][width]: the residual stream
                   entering each block (index 0 = the embedding as block 0 sees it) and
                   the last block's output before the final norm;
  final_norm.npy   float64 [prompt][position][width];
  logits.npy       float64 [prompt][position][vocab].
The reference is Hugging Face transformers loading that same GGUF file (`gguf_file=`),
run in float64 with eager attention, so the fixture checks the engine against an
independent reading of the file, not against the weights the generator drew.

Usage (versions pinned in requirements.txt):
  python3 -m venv .venv-families && .venv-families/bin/pip install -r Scripts/families/requirements.txt
  .venv-families/bin/python Scripts/families/generate.py [family ...]
"""
import json
import os
import sys
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "families"
VOCAB = 96

# Per family: the transformers config, and what the GGUF needs beyond the common keys.
# Shapes are tiny but exercise every feature: >= 2 blocks, GQA where the family has it,
# a sliding window shorter than the longest prompt, soft-caps that clip.
FAMILIES = {
    "llama": dict(
        config=dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0,
                    max_position_embeddings=256, tie_word_embeddings=True),
        rms=True),
    "qwen2": dict(
        config=dict(model_type="qwen2", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000.0,
                    max_position_embeddings=256, tie_word_embeddings=False),
        rms=True),
    "qwen3": dict(
        # transformers reads no head width from a qwen3 GGUF: its default (128) is the one stored.
        config=dict(model_type="qwen3", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=128, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, max_position_embeddings=256, tie_word_embeddings=True),
        rms=True, key_length=128),
    "gemma3": dict(
        # Six blocks: five windowed with the local base 10 000, the sixth global (1e6).
        # transformers scales queries by query_pre_attn_scalar (256) = 1/√head_dim only for head_dim 256.
        config=dict(model_type="gemma3_text", hidden_size=64, intermediate_size=128, num_hidden_layers=6,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=256, rms_norm_eps=1e-6,
                    rope_theta=1000000.0, sliding_window=5, max_position_embeddings=256,
                    query_pre_attn_scalar=256, tie_word_embeddings=True),
        rms=True, key_length=256, sliding_window=5, gemma=True),
    "gemma2": dict(
        # Soft-caps are transformers' defaults (50, 30), which a GGUF cannot override; the
        # weights are drawn large enough that both clip hard.
        config=dict(model_type="gemma2", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=256, rms_norm_eps=1e-6,
                    rope_theta=10000.0, sliding_window=5, max_position_embeddings=256,
                    query_pre_attn_scalar=256, attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                    tie_word_embeddings=True),
        rms=True, key_length=256, sliding_window=5, gemma=True,
        softcaps=(50.0, 30.0), query_key_gain=18.0, embedding_gain=3.0),
    "phi3": dict(
        config=dict(model_type="phi3", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0,
                    max_position_embeddings=256, original_max_position_embeddings=256,
                    tie_word_embeddings=False, pad_token_id=0),
        rms=True),
    "gpt2": dict(
        # transformers sizes the position table by n_positions (1024), which context_length must match,
        # and reads no feed-forward width from a gpt2 GGUF: its 4·d is the one stored.
        config=dict(model_type="gpt2", n_embd=64, n_layer=2, n_head=4, n_inner=256, n_positions=1024,
                    layer_norm_epsilon=1e-5, activation_function="gelu_new", tie_word_embeddings=True),
        rms=False),
    "stablelm": dict(
        # partial_rotary_factor 0.25 (transformers' default, which the GGUF cannot override): 8 of 32.
        config=dict(model_type="stablelm", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=2, num_key_value_heads=1, layer_norm_eps=1e-5, rope_theta=10000.0,
                    partial_rotary_factor=0.25, use_qkv_bias=True, max_position_embeddings=256,
                    tie_word_embeddings=False),
        rms=False),
}

# Prompt lengths: the longest is longer than every sliding window.
PROMPT_LENGTHS = [13, 6]


def make_config(spec):
    c = dict(spec["config"])
    model_type = c.pop("model_type")
    return transformers.AutoConfig.for_model(model_type, vocab_size=VOCAB, **c)


def randomize(model, spec, generator):
    """Weights uniform in ±1/√fan-in (embedding ±1), norm gains 1 ± 0.2, biases ±0.3."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                if name.endswith("bias"):
                    p.copy_(0.6 * torch.rand(p.shape, generator=generator, dtype=torch.float64) - 0.3)
                elif spec.get("gemma"):
                    # Gemma multiplies by (1 + w).
                    p.copy_(0.4 * torch.rand(p.shape, generator=generator, dtype=torch.float64) - 0.2)
                else:
                    p.copy_(1 + 0.4 * torch.rand(p.shape, generator=generator, dtype=torch.float64) - 0.2)
                continue
            fan_in = p.shape[1]
            amplitude = 1.0
            if "embed" in name or "wte" in name or "wpe" in name or "lm_head" in name:
                amplitude = spec.get("embedding_gain", 1.0)
            else:
                amplitude = 1.0 / fan_in ** 0.5
                if "q_proj" in name or "k_proj" in name:
                    amplitude *= spec.get("query_key_gain", 1.0)
            if "c_attn" in name or "c_fc" in name or "c_proj" in name:
                # GPT-2's Conv1D stores [in, out].
                amplitude = 1.0 / p.shape[0] ** 0.5
            values = amplitude * (2 * torch.rand(p.shape, generator=generator, dtype=torch.float64) - 1)
            # Matrices are stored as F16, so draw them on its grid (exact in every reader).
            p.copy_(values.to(torch.float16).to(torch.float64))
        # Norm gains and biases on a 2^-16 grid, so Gemma's +1 in the file is exact too.
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(torch.round(p * 65536) / 65536)


def permute_llama(w, heads):
    # llama.cpp's converter: rows of each head reordered so adjacent pairs are HF's (i, i + hd/2).
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path, family, spec, config, model):
    arch = family
    w = gguf.GGUFWriter(str(path), arch)
    p = arch + "."
    is_gpt2 = family == "gpt2"
    d = config.n_embd if is_gpt2 else config.hidden_size
    layers = config.n_layer if is_gpt2 else config.num_hidden_layers
    heads = config.n_head if is_gpt2 else config.num_attention_heads
    kv_heads = heads if is_gpt2 else config.num_key_value_heads
    head_dim = spec.get("key_length") or d // heads
    w.add_name(f"tiny-{family}")
    w.add_uint32(p + "context_length", 1024 if is_gpt2 else config.max_position_embeddings)
    w.add_uint32(p + "embedding_length", d)
    w.add_uint32(p + "block_count", layers)
    w.add_uint32(p + "feed_forward_length", config.n_inner if is_gpt2 else config.intermediate_size)
    w.add_uint32(p + "attention.head_count", heads)
    w.add_uint32(p + "attention.head_count_kv", kv_heads)
    if spec["rms"]:
        w.add_float32(p + "attention.layer_norm_rms_epsilon", config.rms_norm_eps)
    else:
        w.add_float32(p + "attention.layer_norm_epsilon",
                      config.layer_norm_epsilon if is_gpt2 else config.layer_norm_eps)
    if not is_gpt2:
        theta = getattr(config, "rope_theta", None) or config.rope_parameters.get("rope_theta") \
            if not family.startswith("gemma3") else 1000000.0
        w.add_float32(p + "rope.freq_base", float(theta))
        rope_dims = head_dim
        if family == "stablelm":
            rope_dims = int(head_dim * 0.25)
        w.add_uint32(p + "rope.dimension_count", rope_dims)
    if "key_length" in spec:
        w.add_uint32(p + "attention.key_length", spec["key_length"])
        w.add_uint32(p + "attention.value_length", spec["key_length"])
    if "sliding_window" in spec:
        w.add_uint32(p + "attention.sliding_window", spec["sliding_window"])
    if "softcaps" in spec:
        w.add_float32(p + "attn_logit_softcapping", spec["softcaps"][0])
        w.add_float32(p + "final_logit_softcapping", spec["softcaps"][1])
    # A byte-free vocabulary of placeholder pieces: the fixtures feed token ids.
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list([f"<t{i}>" for i in range(VOCAB)])
    w.add_token_types([1] * VOCAB)
    w.add_token_merges([])
    w.add_pad_token_id(0)

    arch_id = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    names = gguf.get_tensor_name_map(arch_id, layers)
    for hf_name, tensor in model.state_dict().items():
        if hf_name.endswith(".attn.bias") or hf_name.endswith("masked_bias") or "rotary_emb" in hf_name:
            continue
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue
        base, suffix = hf_name.rsplit(".", 1)
        name = names.get_name(base)
        if name is None:
            raise SystemExit(f"{family}: no GGUF name for {hf_name}")
        values = tensor.detach().to(torch.float64).numpy()
        if family == "llama" and suffix == "weight":
            if name.endswith("attn_q"):
                values = permute_llama(values, heads)
            elif name.endswith("attn_k"):
                values = permute_llama(values, kv_heads)
        if spec.get("gemma") and name.endswith("norm") and suffix == "weight":
            values = values + 1
        if is_gpt2 and suffix == "weight" and any(name.endswith(t) for t in ("attn_qkv", "attn_output", "ffn_up", "ffn_down")):
            values = values.T
        stored = np.float16 if values.ndim == 2 else np.float32
        w.add_tensor(f"{name}.{suffix}", np.ascontiguousarray(values.astype(stored)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference(path, family, prompts, drawn):
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                 attn_implementation="eager", dtype=torch.float32)
    model = model.to(torch.float64).eval()
    # The file must give back every drawn weight (to Float32 rounding): a tensor transformers
    # failed to map would otherwise be left at a fresh random init, silently.
    loaded = model.state_dict()
    for name, tensor in drawn.state_dict().items():
        if name not in loaded:
            continue
        expected = tensor.to(torch.float32).to(torch.float64)
        if not torch.equal(loaded[name], expected):
            raise SystemExit(f"{family}: {name} differs after the GGUF round trip "
                             f"(max |diff| {(loaded[name] - expected).abs().max().item():.3g})")
    inner = model.transformer if family == "gpt2" else model.model
    blocks = inner.h if family == "gpt2" else inner.layers
    final_norm = inner.ln_f if family == "gpt2" else inner.norm
    seen = {}
    hooks = [b.register_forward_pre_hook(lambda m, args, kwargs, i=i: seen.__setitem__(i, args[0] if args else kwargs["hidden_states"]),
                                         with_kwargs=True) for i, b in enumerate(blocks)]
    def keep_final(module, args, out):
        seen["last"], seen["norm"] = args[0], out

    hooks.append(final_norm.register_forward_hook(keep_final))
    residuals, norms, logits = [], [], []
    with torch.no_grad():
        for ids in prompts:
            seen.clear()
            out = model(torch.tensor([ids]), use_cache=False)
            states = [seen[i][0] for i in range(len(blocks))] + [seen["last"][0]]
            residuals.append(torch.stack(states).numpy())
            norms.append(seen["norm"][0].numpy())
            logits.append(out.logits[0].numpy())
    for h in hooks:
        h.remove()
    return residuals, norms, logits


def pad(arrays, axis):
    # Prompts differ in length: pad positions with NaN so one array holds them all.
    longest = max(a.shape[axis] for a in arrays)
    out = []
    for a in arrays:
        widths = [(0, 0)] * a.ndim
        widths[axis] = (0, longest - a.shape[axis])
        out.append(np.pad(a, widths, constant_values=np.nan))
    return np.stack(out)


def main(selected):
    torch.use_deterministic_algorithms(True)
    for index, (family, spec) in enumerate(FAMILIES.items()):
        if selected and family not in selected:
            continue
        generator = torch.Generator().manual_seed(1000 + index)
        config = make_config(spec)
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").to(torch.float64)
        randomize(model, spec, generator)
        folder = OUT / family
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.gguf"
        write_gguf(path, family, spec, config, model)
        rng = np.random.default_rng(index)
        prompts = [[int(t) for t in rng.integers(0, VOCAB, n)] for n in PROMPT_LENGTHS]
        residuals, norms, logits = reference(path, family, prompts, model)
        np.save(folder / "residuals.npy", pad(residuals, 1))
        np.save(folder / "final_norm.npy", pad(norms, 0))
        np.save(folder / "logits.npy", pad(logits, 0))
        # The format of shared/reference's tokens.json (so `rbench trace --tokens` reads it), plus provenance.
        meta = dict(family=family, prompts=[f"random ids ({len(p)} tokens)" for p in prompts], tokens=prompts,
                    add_bos=False, transformers=transformers.__version__,
                    torch=torch.__version__, gguf=gguf.__version__ if hasattr(gguf, "__version__") else "see requirements.txt")
        (folder / "tokens.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(f"{family}: {os.path.getsize(path)} bytes, logits |max| {max(abs(l).max() for l in logits):.2f}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
