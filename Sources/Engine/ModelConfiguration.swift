import GGUF

/// How query/key dimensions are paired for rotary position embedding.
public enum RoPEPairing: String, Sendable, Codable {
    /// ggml NORM mode: rotate `(x[2i], x[2i+1])`. Llama GGUFs store Q/K rows permuted for it.
    case adjacent
    /// ggml NEOX mode: rotate `(x[i], x[i + n/2])`.
    case halves
}

/// The feed-forward nonlinearity (the name the first families used).
public typealias GateActivation = Activation

/// A short summary of a model's family settings, resolved against its file (kept for callers
/// that ask about the first families' differences; the block reads ``ModelConfiguration/family``).
public struct ArchitectureTraits: Sendable, Hashable {
    /// RoPE pairing; `nil` for learned absolute positions.
    public var ropePairing: RoPEPairing?
    public var activation: Activation
    /// Multiplier applied to the embedding row before block 0 (√d for Gemma).
    public var embeddingScale: Float
    /// Per-head RMSNorm of queries and keys (Gemma 3, Qwen3).
    public var normalizesQueriesAndKeys: Bool
    /// Norm of the attention and feed-forward outputs before they are added (Gemma).
    public var normalizesSublayerOutputs: Bool
    /// Q, K and V projections add a bias.
    public var biasesQueryKeyValue: Bool
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
    public var architecture: Architecture { family.architecture }
    /// Everything in which this architecture's block differs from another's.
    public var family: ArchitectureFamily
    /// The biases this model's projections add: the family's own plus the optional ones its file stores.
    public var biases: Biases
    /// Multiplier of the embedding row before block 0.
    public var embeddingScale: Float
    /// `cap · tanh(score / cap)` of the attention scores (after scaling), when set.
    public var attentionSoftCap: Float?
    /// `cap · tanh(logit / cap)` of the final logits, when set.
    public var finalSoftCap: Float?
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

    public var traits: ArchitectureTraits {
        var pairing: RoPEPairing?
        if case .rotary(let p) = family.positions { pairing = p }
        return ArchitectureTraits(ropePairing: pairing, activation: family.activation, embeddingScale: embeddingScale,
                                  normalizesQueriesAndKeys: family.queryKeyNorm,
                                  normalizesSublayerOutputs: family.placement == .sandwich,
                                  biasesQueryKeyValue: biases.contains(.queryKeyValue))
    }

    /// Width of the gate|up (or, for a plain feed-forward, the up) projection output.
    var feedForwardProjectionWidth: Int {
        if case .gated = family.feedForward { return 2 * feedForwardWidth }
        return feedForwardWidth
    }
}

extension ModelConfiguration {
    /// Reads the configuration from a GGUF file's metadata, as its family (``ArchitectureFamily``) says.
    ///
    /// Throws ``EngineError/unsupportedArchitecture(file:name:)`` for an architecture no family
    /// describes, ``EngineError/unsupportedFeature(file:feature:)`` for a setting the family
    /// allows but the engine does not run, and ``EngineError/invalidSetting(file:key:value:problem:)``
    /// for a setting that fails the checks of `ModelConfiguration+Validation.swift` (made before
    /// anything is sized by it).
    public init(gguf: GGUFFile) throws {
        let meta = gguf.metadata
        let file = gguf.url.lastPathComponent
        let archName = try meta.string("general.architecture")
        guard let family = ArchitectureFamily.named(archName) else {
            throw EngineError.unsupportedArchitecture(file: file, name: archName)
        }
        var parallel = family.residual == .parallel
        if let marker = family.parallelResidualWithout {
            parallel = parallel || !gguf.tensors.contains { $0.name == "blk.0.\(marker).weight" }
        }
        if parallel {
            throw EngineError.unsupportedFeature(
                file: file, feature: "the parallel residual (\(archName)"
                    + (family.parallelResidualWithout.map { ": the file has no blk.0.\($0).weight" } ?? "") + ")")
        }
        let p = archName + "."
        // RoPE scaling (linear, YaRN, LongRoPE) changes every rotation and no family runs it: a file
        // that asks for it is refused rather than run with plain RoPE (a silently wrong model).
        if let kind = try meta.stringIfPresent(p + "rope.scaling.type"), kind != "none",
           (try meta.floatIfPresent(p + "rope.scaling.factor")) ?? 1 != 1 || kind != "linear" {
            throw EngineError.unsupportedFeature(file: file, feature: "RoPE scaling '\(kind)' (\(p)rope.scaling.type)")
        }
        if let factors = gguf.tensors.first(where: { ["rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"].contains($0.name) }) {
            throw EngineError.unsupportedFeature(file: file, feature: "per-dimension RoPE frequency factors (tensor \(factors.name))")
        }
        try Self.checkStoredSettings(of: gguf, prefix: p, epsilonKey: family.epsilonKey)
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
            vocab = try gguf.tensorInfo(named: family.names.tokenEmbedding + ".weight").rowCount
        }
        let ropeBase = try meta.floatIfPresent(p + "rope.freq_base") ?? 10_000
        let window = try meta.intIfPresent(p + "attention.sliding_window")

        let layouts: [AttentionLayout]
        switch family.slidingWindow {
        case .fullCausal:
            layouts = Array(repeating: AttentionLayout(ropeBase: ropeBase, window: nil), count: blocks)
        case .pattern(let period, let defaultLocalBase):
            // llama.cpp: block b is global iff b % period == period - 1.
            let localBase = try meta.floatIfPresent(p + "rope.freq_base_swa") ?? defaultLocalBase ?? ropeBase
            layouts = (0..<blocks).map { block in
                block % period == period - 1
                    ? AttentionLayout(ropeBase: ropeBase, window: nil)
                    : AttentionLayout(ropeBase: localBase, window: window)
            }
        }
        let scale: Float
        if let s = try meta.floatIfPresent(p + "attention.scale") {
            scale = Float(s)
        } else {
            scale = 1 / Float(headWidth).squareRoot()
        }
        var biases = family.biases
        if family.optionalBiases.contains(.queryKeyValue),
           gguf.tensors.contains(where: { $0.name == "blk.0." + family.names.query + ".bias" }) {
            biases.insert(.queryKeyValue)
        }
        let softCap = { (key: String) -> Float? in
            guard family.softCapping, let cap = try meta.floatIfPresent(p + key), cap != 0 else { return nil }
            return Float(cap)
        }
        let ropeDimensions: Int
        if case .learned = family.positions {
            ropeDimensions = 0
        } else {
            ropeDimensions = try meta.intIfPresent(p + "rope.dimension_count") ?? headWidth
        }

        self.init(
            family: family, biases: biases,
            embeddingScale: family.embeddingScale == .squareRootWidth ? Float(Double(width).squareRoot()) : 1,
            attentionSoftCap: try softCap("attn_logit_softcapping"),
            finalSoftCap: try softCap("final_logit_softcapping"),
            blockCount: blocks, modelWidth: width,
            feedForwardWidth: try meta.int(p + "feed_forward_length"),
            headCount: heads, keyValueHeadCount: kvHeads, headWidth: headWidth,
            ropeDimensions: ropeDimensions,
            vocabularySize: vocab,
            normEpsilon: Float(try meta.floatIfPresent(p + family.epsilonKey) ?? 1e-5),
            attentionScale: scale,
            contextLength: try meta.intIfPresent(p + "context_length") ?? 2048,
            layouts: layouts)
        try validate(against: gguf)
    }
}
