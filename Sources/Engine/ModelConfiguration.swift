import GGUF

/// The architectures the engine can run. Everything that differs between them is
/// decided here, once, as ``ArchitectureTraits``; the forward pass never asks which
/// architecture it runs.
public enum Architecture: String, Sendable, CaseIterable, Codable {
    case llama
    case gemma3
    case qwen2
}

/// How query/key dimensions are paired for rotary position embedding.
public enum RoPEPairing: String, Sendable, Codable {
    /// ggml NORM mode: rotate `(x[2i], x[2i+1])`. Llama GGUFs store Q/K rows permuted for it.
    case adjacent
    /// ggml NEOX mode: rotate `(x[i], x[i + n/2])`.
    case halves
}

/// The gated feed-forward nonlinearity.
public enum GateActivation: String, Sendable, Codable {
    /// `x · sigmoid(x)` (SwiGLU).
    case silu
    /// Exact tanh-form GELU (GeGLU), not a lookup table.
    case geluTanh
}

/// Per-architecture differences of the transformer block.
public struct ArchitectureTraits: Sendable, Hashable {
    public var ropePairing: RoPEPairing
    public var activation: GateActivation
    /// Multiplier applied to the embedding row before block 0 (√d for Gemma).
    public var embeddingScale: Float
    /// Per-head RMSNorm of queries and keys (Gemma 3).
    public var normalizesQueriesAndKeys: Bool
    /// RMSNorm of the attention and feed-forward outputs before they are added (Gemma 3).
    public var normalizesSublayerOutputs: Bool
    /// Q, K and V projections add a bias (`attn_q.bias`, `attn_k.bias`, `attn_v.bias`; Qwen2).
    public var biasesQueryKeyValue: Bool = false
}

/// How one block attends.
public struct AttentionLayout: Sendable, Hashable {
    /// RoPE base frequency of this block.
    public var ropeBase: Double
    /// Keys at distance ≥ window are masked; `nil` is full causal attention.
    public var window: Int?
}

/// Shape and hyper-parameters of a model, read from GGUF metadata.
public struct ModelConfiguration: Sendable, Hashable {
    public var architecture: Architecture
    public var traits: ArchitectureTraits
    public var blockCount: Int
    public var modelWidth: Int
    public var feedForwardWidth: Int
    public var headCount: Int
    public var keyValueHeadCount: Int
    public var headWidth: Int
    public var ropeDimensions: Int
    public var vocabularySize: Int
    public var normEpsilon: Float
    public var attentionScale: Float
    public var contextLength: Int
    public var layouts: [AttentionLayout]

    public var queryWidth: Int { headCount * headWidth }
    public var keyValueWidth: Int { keyValueHeadCount * headWidth }
    /// Width of the fused Q|K|V projection output.
    public var fusedQKVWidth: Int { queryWidth + 2 * keyValueWidth }
    /// Weights of the embedding and the block matrices (norms and biases left out): the size by
    /// which models of one family are ordered.
    public var parameterEstimate: Double {
        let d = Double(modelWidth)
        let block = d * Double(fusedQKVWidth) + Double(queryWidth) * d + 3 * d * Double(feedForwardWidth)
        return d * Double(vocabularySize) + Double(blockCount) * block
    }

    /// Number of residual-stream states per position: the embedding plus one per block.
    public var residualCount: Int { blockCount + 1 }
}

extension ModelConfiguration {
    /// Reads the configuration from a GGUF file's metadata.
    ///
    /// Throws ``EngineError/unsupportedArchitecture(file:name:)`` for anything but `llama`, `gemma3` and `qwen2`,
    /// and ``EngineError/invalidSetting(file:key:value:problem:)`` for a setting that fails the checks
    /// of `ModelConfiguration+Validation.swift` (made before anything is sized by it).
    public init(gguf: GGUFFile) throws {
        let meta = gguf.metadata
        let file = gguf.url.lastPathComponent
        let archName = try meta.string("general.architecture")
        guard let arch = Architecture(rawValue: archName) else {
            throw EngineError.unsupportedArchitecture(file: file, name: archName)
        }
        let p = archName + "."
        try Self.checkStoredSettings(of: gguf, prefix: p)
        let width = try meta.int(p + "embedding_length")
        let heads = try meta.int(p + "attention.head_count")
        let kvHeads = try meta.intIfPresent(p + "attention.head_count_kv") ?? heads
        let headWidth = try meta.intIfPresent(p + "attention.key_length") ?? (width / heads)
        let blocks = try meta.int(p + "block_count")
        let vocab: Int
        if let v = try meta.intIfPresent(p + "vocab_size") {
            vocab = v
        } else if case .array(let tokens)? = meta["tokenizer.ggml.tokens"] {
            vocab = tokens.count
        } else {
            vocab = try gguf.tensorInfo(named: "token_embd.weight").rowCount
        }
        let ropeBase = try meta.floatIfPresent(p + "rope.freq_base") ?? 10_000
        let window = try meta.intIfPresent(p + "attention.sliding_window")

        let traits: ArchitectureTraits
        let layouts: [AttentionLayout]
        let scale: Float
        switch arch {
        case .llama:
            traits = ArchitectureTraits(ropePairing: .adjacent, activation: .silu, embeddingScale: 1,
                                        normalizesQueriesAndKeys: false, normalizesSublayerOutputs: false)
            layouts = Array(repeating: AttentionLayout(ropeBase: ropeBase, window: nil), count: blocks)
            scale = 1 / Float(headWidth).squareRoot()
        case .gemma3:
            traits = ArchitectureTraits(ropePairing: .halves, activation: .geluTanh,
                                        embeddingScale: Float(Double(width).squareRoot()),
                                        normalizesQueriesAndKeys: true, normalizesSublayerOutputs: true)
            // llama.cpp: every sixth block (il % 6 == 5) is global with the file's base; the others
            // use a sliding window and a local base of 10 000 that the file does not store.
            let localBase = try meta.floatIfPresent(p + "rope.freq_base_swa") ?? 10_000
            layouts = (0..<blocks).map { block in
                block % 6 == 5
                    ? AttentionLayout(ropeBase: ropeBase, window: nil)
                    : AttentionLayout(ropeBase: localBase, window: window)
            }
            if let s = try meta.floatIfPresent(p + "attention.scale") {
                scale = Float(s)
            } else {
                scale = 1 / Float(headWidth).squareRoot()
            }
        case .qwen2:
            // llama plus Q/K/V biases; llama.cpp runs qwen2 with NEOX RoPE on unpermuted Q/K rows
            // and full causal attention (the file's sliding-window keys are not used).
            traits = ArchitectureTraits(ropePairing: .halves, activation: .silu, embeddingScale: 1,
                                        normalizesQueriesAndKeys: false, normalizesSublayerOutputs: false,
                                        biasesQueryKeyValue: true)
            layouts = Array(repeating: AttentionLayout(ropeBase: ropeBase, window: nil), count: blocks)
            scale = 1 / Float(headWidth).squareRoot()
        }

        self.init(
            architecture: arch, traits: traits, blockCount: blocks, modelWidth: width,
            feedForwardWidth: try meta.int(p + "feed_forward_length"),
            headCount: heads, keyValueHeadCount: kvHeads, headWidth: headWidth,
            ropeDimensions: try meta.intIfPresent(p + "rope.dimension_count") ?? headWidth,
            vocabularySize: vocab,
            normEpsilon: Float(try meta.floatIfPresent(p + "attention.layer_norm_rms_epsilon") ?? 1e-5),
            attentionScale: scale,
            contextLength: try meta.intIfPresent(p + "context_length") ?? 2048,
            layouts: layouts)
        try validate(against: gguf)
    }
}
