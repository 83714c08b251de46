/// A model architecture as data: everything in which one family's transformer block, embedding
/// and readout differ from another's. The forward pass is written once and reads only this
/// description; it never asks which family it runs.
///
/// Each family lives in its own file (`Families/GPT2.swift`, …) as a static value, and is
/// listed once in ``ArchitectureFamily/known``. Settings a file stores (widths, bases, caps,
/// the window) are read through the keys named here; the rest is fixed by the family, as
/// llama.cpp fixes it for that architecture.
public struct ArchitectureFamily: Sendable, Hashable {
    /// The `general.architecture` name.
    public var architecture: Architecture
    public var norm: NormKind = .rms
    /// Whether each sublayer's output is normalized again before it is added (Gemma's sandwich).
    public var placement: NormPlacement = .pre
    public var residual: ResidualWiring = .sequential
    /// A block tensor (e.g. `ffn_norm`) whose absence means the file wants a parallel residual
    /// (llama.cpp's and transformers' reading of StableLM 2 12B), which this engine refuses.
    public var parallelResidualWithout: String? = nil
    /// Q, K and V as three tensors (fused into one matrix at load) or one `attn_qkv` tensor.
    public var queryKeyValue: TensorLayout = .separate
    public var feedForward: FeedForwardKind = .gated(.separate)
    public var activation: Activation = .silu
    /// Which projections add a bias; `optional` ones are used when the file has them.
    public var biases: Biases = []
    public var optionalBiases: Biases = []
    public var positions: PositionEncoding = .rotary(.halves)
    /// Whether `rope.dimension_count` may be smaller than the head (partial rotary).
    public var allowsPartialRotary: Bool = true
    /// Per-head RMSNorm of queries and keys after the projection, before RoPE.
    public var queryKeyNorm: Bool = false
    public var attentionScale: AttentionScaleRule = .inverseSquareRootHeadWidth
    /// Whether `attn_logit_softcapping` / `final_logit_softcapping` are read (and applied when stored).
    public var softCapping: Bool = false
    public var slidingWindow: SlidingWindowRule = .fullCausal
    public var embeddingScale: EmbeddingScaleRule = .one
    /// The metadata key (after `{arch}.`) of the norm ε.
    public var epsilonKey: String = "attention.layer_norm_rms_epsilon"
    public var names: TensorNames = .standard

    /// Every family the engine runs, in listing order. Adding a family = one file + one line here.
    public static let known: [ArchitectureFamily] = [.llama, .gemma3, .qwen2, .qwen3, .gemma2, .phi3, .gpt2, .stablelm]

    /// The family of a `general.architecture` name, if the engine knows it.
    public static func named(_ name: String) -> ArchitectureFamily? { known.first { $0.architecture.rawValue == name } }
}

/// The `general.architecture` of a model, e.g. `llama`. The known ones are static members,
/// declared in the family files.
public struct Architecture: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The architectures the engine runs.
    public static var allCases: [Architecture] { ArchitectureFamily.known.map(\.architecture) }
}

public enum NormKind: String, Sendable, Hashable, Codable {
    /// `x / sqrt(mean(x²) + ε) · w`.
    case rms
    /// `(x − mean) / sqrt(var + ε) · w + b`, the bias tensor `….bias` beside each gain.
    case layer
}

public enum NormPlacement: String, Sendable, Hashable, Codable {
    /// Norm before each sublayer only.
    case pre
    /// Also a norm of each sublayer's output before the residual add (`post_attention_norm`, `post_ffw_norm`).
    case sandwich
}

public enum ResidualWiring: String, Sendable, Hashable, Codable {
    /// `h = x + attn(norm(x))`, then `x' = h + ffn(norm(h))`.
    case sequential
    /// `x' = x + attn(norm(x)) + ffn(norm(x))` (GPT-J, NeoX); not run by this engine yet.
    case parallel
}

public enum TensorLayout: String, Sendable, Hashable, Codable {
    case separate
    /// One tensor holding the parts stacked by rows, in order (Q|K|V, or gate|up).
    case fused
}

public enum FeedForwardKind: Sendable, Hashable, Codable {
    /// `down(act(gate·m) ⊙ up·m)`; gate and up as two tensors or one fused `ffn_up` (gate first).
    case gated(TensorLayout)
    /// `down(act(up·m))` (GPT-2).
    case plain
}

/// The feed-forward nonlinearity.
public enum Activation: String, Sendable, Hashable, Codable {
    /// `x · sigmoid(x)`.
    case silu
    /// Exact tanh-form GELU, not a lookup table.
    case geluTanh
    /// GELU with the error function, `0.5·x·(1 + erf(x/√2))`.
    case geluErf
}

/// Which projections carry a bias.
public struct Biases: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Q, K and V (`attn_q.bias`…, or `attn_qkv.bias`).
    public static let queryKeyValue = Biases(rawValue: 1)
    public static let attentionOutput = Biases(rawValue: 2)
    /// `ffn_up.bias` (and `ffn_gate.bias`) and `ffn_down.bias`.
    public static let feedForward = Biases(rawValue: 4)
}

public enum PositionEncoding: Sendable, Hashable, Codable {
    case rotary(RoPEPairing)
    /// A learned absolute position embedding (`position_embd`) added to the token row.
    case learned
}

public enum AttentionScaleRule: Sendable, Hashable, Codable {
    /// `1/√head_width`, or `{arch}.attention.scale` when the file stores it.
    case inverseSquareRootHeadWidth
}

public enum SlidingWindowRule: Sendable, Hashable, Codable {
    /// Full causal attention in every block (a stored window is not used, as llama.cpp does for qwen2).
    case fullCausal
    /// Block `b` is global iff `b % period == period − 1`, the others attend within
    /// `{arch}.attention.sliding_window` (when stored). Local blocks use the RoPE base under
    /// `rope.freq_base_swa`, else `localBase`, else (nil) the global one.
    case pattern(period: Int, localBase: Double?)
}

public enum EmbeddingScaleRule: String, Sendable, Hashable, Codable {
    case one
    /// `√d_model` (Gemma).
    case squareRootWidth
}

/// GGUF tensor names (before `.weight`/`.bias`; block ones after `blk.N.`).
public struct TensorNames: Sendable, Hashable, Codable {
    public var tokenEmbedding = "token_embd"
    public var positionEmbedding = "position_embd"
    public var outputNorm = "output_norm"
    public var output = "output"
    public var attentionNorm = "attn_norm"
    public var query = "attn_q"
    public var key = "attn_k"
    public var value = "attn_v"
    public var fusedQKV = "attn_qkv"
    public var queryNorm = "attn_q_norm"
    public var keyNorm = "attn_k_norm"
    public var attentionOutput = "attn_output"
    public var postAttentionNorm = "post_attention_norm"
    public var feedForwardNorm = "ffn_norm"
    public var gate = "ffn_gate"
    public var up = "ffn_up"
    public var down = "ffn_down"
    public var postFeedForwardNorm = "post_ffw_norm"

    /// The names llama.cpp's converter writes for every family here.
    public static let standard = TensorNames()
}

extension ArchitectureFamily {
    /// The features this family uses, for listings (`rbench families`).
    public var features: [String] {
        var out: [String] = [norm == .rms ? "RMSNorm" : "LayerNorm+bias"]
        if placement == .sandwich { out.append("sandwich norms") }
        if residual == .parallel { out.append("parallel residual") }
        if queryKeyValue == .fused { out.append("fused QKV") }
        switch feedForward {
        case .gated(let layout): out.append(layout == .fused ? "fused gate|up" : "gated FFN")
        case .plain: out.append("plain FFN")
        }
        out.append(["silu": "SiLU", "geluTanh": "GELU tanh", "geluErf": "GELU erf"][activation.rawValue]!)
        if biases.contains(.queryKeyValue) { out.append("QKV bias") }
        if optionalBiases.contains(.queryKeyValue) { out.append("QKV bias if stored") }
        if biases.contains(.attentionOutput) { out.append("output-projection bias") }
        if biases.contains(.feedForward) { out.append("FFN biases") }
        switch positions {
        case .rotary(let pairing): out.append(pairing == .adjacent ? "RoPE adjacent pairs" : "RoPE halves")
        case .learned: out.append("learned positions")
        }
        if case .rotary = positions, allowsPartialRotary { out.append("partial rotary allowed") }
        if queryKeyNorm { out.append("QK-norm") }
        if softCapping { out.append("soft-capping") }
        if case .pattern(let period, _) = slidingWindow { out.append("sliding window (period \(period))") }
        if embeddingScale == .squareRootWidth { out.append("√d embedding scale") }
        return out
    }
}
