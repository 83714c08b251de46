import GGUF

// Every model setting is checked before anything is sized by it, as ggml checks a GGUF: each
// stored value on its own first (so no division by zero and no allocation from an absurd count),
// then the derived configuration, then its agreement with the tensors the file really holds.

extension ModelConfiguration {
    /// The largest count any setting may hold before it is compared with the tensors, so a
    /// product of two settings can never overflow.
    static let maximumCount = 1 << 24

    /// Checks each numeric setting `gguf` stores under `prefix` (`"llama."`, …) on its own, and
    /// that `block_count` matches the `blk.N.` tensors: everything ``init(gguf:)`` reads before
    /// it derives or allocates anything. Throws ``EngineError/invalidSetting(file:key:value:problem:)``.
    static func checkStoredSettings(of gguf: GGUFFile, prefix: String,
                                    epsilonKey: String = "attention.layer_norm_rms_epsilon") throws {
        let file = gguf.url.lastPathComponent
        let meta = gguf.metadata
        let counts = ["embedding_length", "block_count", "feed_forward_length", "attention.head_count",
                      "attention.head_count_kv", "attention.key_length", "attention.value_length", "vocab_size",
                      "rope.dimension_count", "context_length", "attention.sliding_window"]
        for name in counts {
            guard let value = try meta.intIfPresent(prefix + name) else { continue }
            guard (1...maximumCount).contains(value) else {
                throw EngineError.invalidSetting(file: file, key: prefix + name, value: "\(value)",
                                                 problem: "is not a count between 1 and \(maximumCount)")
            }
        }
        let positives = [epsilonKey, "rope.freq_base", "rope.freq_base_swa", "attention.scale",
                         "attn_logit_softcapping", "final_logit_softcapping"]
        for name in positives {
            guard let value = try meta.floatIfPresent(prefix + name) else { continue }
            guard value > 0, Float(value).isFinite, Float(value) > 0 else {
                throw EngineError.invalidSetting(file: file, key: prefix + name, value: "\(value)",
                                                 problem: "must be a finite number greater than 0 (as a Float32)")
            }
        }
        let blocks = try meta.int(prefix + "block_count")
        let present = blockIndices(in: gguf)
        guard present.count == blocks, present.allSatisfy({ $0 < blocks }) else {
            let found = present.isEmpty ? "no blk.N tensors"
                : "blk.N tensors for \(present.count) block(s), indices \(present.min()!)…\(present.max()!)"
            throw EngineError.invalidSetting(file: file, key: prefix + "block_count", value: "\(blocks)",
                                             problem: "does not match the file, which has \(found)")
        }
    }

    /// The `N` of every tensor named `blk.N.…`.
    private static func blockIndices(in gguf: GGUFFile) -> Set<Int> {
        var indices = Set<Int>()
        for tensor in gguf.tensors where tensor.name.hasPrefix("blk.") {
            let number = tensor.name.dropFirst(4).prefix { $0.isASCII && $0.isNumber }
            if let index = Int(number), tensor.name.dropFirst(4 + number.count).hasPrefix(".") { indices.insert(index) }
        }
        return indices
    }

    /// Checks that the configuration can run: positive, bounded counts; heads grouped evenly;
    /// RoPE dimensions even and within the head (equal to it where the architecture requires);
    /// finite, positive ε, RoPE bases and attention scale; one attention layout per block.
    ///
    /// `source` names the file (or the control) in the error. ``init(gguf:)`` and
    /// ``LanguageModel/randomlyInitialized(like:origin:fill:)`` call it, so no model is ever
    /// built from a configuration that fails it.
    public func validate(source: String) throws(EngineError) {
        let p = architecture.rawValue + "."
        func fail(_ key: String, _ value: String, _ problem: String) -> EngineError {
            .invalidSetting(file: source, key: p + key, value: value, problem: problem)
        }
        let counts: [(String, Int)] = [
            ("block_count", blockCount), ("embedding_length", modelWidth), ("feed_forward_length", feedForwardWidth),
            ("attention.head_count", headCount), ("attention.head_count_kv", keyValueHeadCount),
            ("attention.key_length", headWidth), ("vocab_size", vocabularySize), ("context_length", contextLength),
        ]
        for (key, value) in counts where !(1...Self.maximumCount).contains(value) {
            throw fail(key, "\(value)", "is not a count between 1 and \(Self.maximumCount)"
                       + (key == "attention.key_length" ? " (without the key, the head width is embedding_length / attention.head_count)" : ""))
        }
        guard headCount % keyValueHeadCount == 0 else {
            throw fail("attention.head_count_kv", "\(keyValueHeadCount)", "does not divide attention.head_count = \(headCount)")
        }
        if case .rotary = family.positions {
            guard ropeDimensions >= 2, ropeDimensions <= headWidth, ropeDimensions % 2 == 0 else {
                throw fail("rope.dimension_count", "\(ropeDimensions)", "must be even and between 2 and the head width \(headWidth)")
            }
            // llama.cpp refuses partial rotation for llama ("invalid n_rot"); other architectures may rotate a prefix.
            if !family.allowsPartialRotary, ropeDimensions != headWidth {
                throw fail("rope.dimension_count", "\(ropeDimensions)", "must equal the head width \(headWidth) for \(architecture.rawValue)")
            }
        } else if ropeDimensions != 0 {
            throw fail("rope.dimension_count", "\(ropeDimensions)", "must be 0: \(architecture.rawValue) uses learned positions")
        }
        guard normEpsilon.isFinite, normEpsilon > 0 else {
            throw fail(family.epsilonKey, "\(normEpsilon)", "must be a finite number greater than 0")
        }
        for (key, cap) in [("attn_logit_softcapping", attentionSoftCap), ("final_logit_softcapping", finalSoftCap)] {
            if let cap, !(cap.isFinite && cap > 0) {
                throw fail(key, "\(cap)", "must be a finite number greater than 0")
            }
        }
        guard attentionScale.isFinite, attentionScale > 0 else {
            throw fail("attention.scale", "\(attentionScale)", "must be a finite number greater than 0")
        }
        guard embeddingScale.isFinite, embeddingScale > 0 else {
            throw fail("embedding_length", "\(modelWidth)", "gives the embedding scale \(embeddingScale), which is not finite and positive")
        }
        guard layouts.count == blockCount else {
            throw .invalidConfiguration(file: source, reason: "\(layouts.count) attention layouts for \(blockCount) blocks")
        }
        for (block, layout) in layouts.enumerated() {
            let key = layout.window == nil ? "rope.freq_base" : "rope.freq_base_swa"
            guard layout.ropeBase.isFinite, layout.ropeBase > 0 else {
                throw fail(key, "\(layout.ropeBase)", "must be a finite number greater than 0 (block \(block))")
            }
            if let window = layout.window, window < 1 {
                throw fail("attention.sliding_window", "\(window)", "must be at least 1 (block \(block))")
            }
        }
    }

    /// ``validate(source:)``, then checks the configuration against the tensors of `gguf` that
    /// anchor every size: `token_embd` gives width and vocabulary, block 0 the head, key/value
    /// and feed-forward widths. Tensors are compared by shape only; nothing is read.
    func validate(against gguf: GGUFFile) throws {
        let file = gguf.url.lastPathComponent
        try validate(source: file)
        let p = architecture.rawValue + "."
        func fail(_ key: String, _ value: String, _ problem: String) -> EngineError {
            .invalidSetting(file: file, key: p + key, value: value, problem: problem)
        }
        func shape(_ name: String, rank: Int) throws -> [Int] {
            var dimensions = try gguf.tensorInfo(named: name).dimensions
            while dimensions.count > rank, dimensions.last == 1 { dimensions.removeLast() }
            return dimensions
        }
        let names = family.names
        let embedding = try shape(names.tokenEmbedding + ".weight", rank: 2)
        if embedding.first != modelWidth {
            throw fail("embedding_length", "\(modelWidth)", "does not match \(names.tokenEmbedding).weight, whose shape is \(embedding)")
        }
        if embedding != [modelWidth, vocabularySize] {
            let stored = try gguf.metadata.intIfPresent(p + "vocab_size") != nil
            throw EngineError.invalidSetting(file: file, key: stored ? p + "vocab_size" : "tokenizer.ggml.tokens (its length)",
                                              value: "\(vocabularySize)", problem: "does not match \(names.tokenEmbedding).weight, whose shape is \(embedding)")
        }
        if case .learned = family.positions {
            let positions = try shape(names.positionEmbedding + ".weight", rank: 2)
            if positions.first != modelWidth || positions.count != 2 || positions[1] < 1 {
                throw fail("embedding_length", "\(modelWidth)", "does not match \(names.positionEmbedding).weight, whose shape is \(positions)")
            }
            if positions[1] < contextLength {
                throw fail("context_length", "\(contextLength)", "exceeds the \(positions[1]) rows of \(names.positionEmbedding).weight")
            }
        }
        // With attention.key_length stored, the head width is its own setting and the likelier culprit.
        let headKey = try gguf.metadata.intIfPresent(p + "attention.key_length") != nil ? "attention.key_length" : "attention.head_count"
        let headValue = headKey == "attention.key_length" ? headWidth : headCount
        switch family.queryKeyValue {
        case .separate:
            let query = try shape("blk.0.\(names.query).weight", rank: 2)
            if query != [modelWidth, queryWidth] {
                throw fail(headKey, "\(headValue)", "gives \(headCount) heads × \(headWidth) = \(queryWidth), which does not match blk.0.\(names.query).weight, whose shape is \(query)")
            }
            let key = try shape("blk.0.\(names.key).weight", rank: 2)
            if key != [modelWidth, keyValueWidth] {
                throw fail("attention.head_count_kv", "\(keyValueHeadCount)", "× head width \(headWidth) = \(keyValueWidth) does not match blk.0.\(names.key).weight, whose shape is \(key)")
            }
        case .fused:
            let qkv = try shape("blk.0.\(names.fusedQKV).weight", rank: 2)
            if qkv != [modelWidth, fusedQKVWidth] {
                throw fail("attention.head_count_kv", "\(keyValueHeadCount)", "with \(headCount) heads × \(headWidth) gives Q|K|V width \(fusedQKVWidth), which does not match blk.0.\(names.fusedQKV).weight, whose shape is \(qkv)")
            }
        }
        var upRows = feedForwardWidth
        if case .gated(.fused) = family.feedForward { upRows = 2 * feedForwardWidth }
        let up = try shape("blk.0.\(names.up).weight", rank: 2)
        if up != [modelWidth, upRows] {
            throw fail("feed_forward_length", "\(feedForwardWidth)", "does not match blk.0.\(names.up).weight, whose shape is \(up)")
        }
        if family.queryKeyNorm {
            let norm = try shape("blk.0.\(names.queryNorm).weight", rank: 1)
            if norm != [headWidth] {
                throw fail("attention.key_length", "\(headWidth)", "does not match blk.0.\(names.queryNorm).weight, whose shape is \(norm)")
            }
        }
        // The engine gives values the key width; a file whose value heads differ would be misread.
        if let valueWidth = try gguf.metadata.intIfPresent(p + "attention.value_length"), valueWidth != headWidth {
            throw fail("attention.value_length", "\(valueWidth)", "differs from the key width \(headWidth), which this engine does not support")
        }
    }
}
