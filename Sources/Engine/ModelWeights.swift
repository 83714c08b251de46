import GGUF

/// The weights of one transformer block, row-major `[out][in]` as GGUF stores them.
/// Q|K|V and gate|up are fused at load so each costs one GEMM.
struct BlockWeights: Sendable {
    var attentionNorm: [Float]
    var qkv: WeightMatrix            // [fusedQKVWidth, modelWidth]
    var attentionOutput: WeightMatrix  // [modelWidth, queryWidth]
    var feedForwardNorm: [Float]
    var gateUp: WeightMatrix         // [2·feedForwardWidth, modelWidth]
    var down: WeightMatrix           // [modelWidth, feedForwardWidth]
    /// Q|K|V biases `[fusedQKVWidth]` (Qwen2; empty otherwise).
    var qkvBias: [Float] = []
    // Gemma 3 only (empty otherwise).
    var queryNorm: [Float] = []
    var keyNorm: [Float] = []
    var postAttentionNorm: [Float] = []
    var postFeedForwardNorm: [Float] = []
}

/// All weights of a model. Norm gains and biases are Float32; the block matrices are Float32
/// or kept in their file format (see ``WeightResidency``); a very large embedding table stays
/// quantized either way (see ``EmbeddingTable``).
struct ModelWeights: Sendable {
    var tokenEmbedding: EmbeddingTable  // [vocabularySize, modelWidth]; also the tied unembedding
    var outputNorm: [Float]
    /// A separate unembedding when the file has `output.weight`; `nil` when tied.
    var output: EmbeddingTable?
    var blocks: [BlockWeights]
}

extension ModelWeights {
    /// Loads every tensor the configuration needs, checking each shape, with the block matrices
    /// held as `residency` says.
    init(gguf: GGUFFile, configuration c: ModelConfiguration, residency: WeightResidency) throws {
        let file = gguf.url.lastPathComponent
        func info(_ name: String, _ shape: [Int]) throws -> GGUFTensorInfo {
            let info = try gguf.tensorInfo(named: name)
            var dims = info.dimensions
            while dims.count > shape.count, dims.last == 1 { dims.removeLast() }
            guard dims == shape else {
                throw EngineError.shapeMismatch(file: file, tensor: name, expected: shape, found: info.dimensions)
            }
            return info
        }
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            try gguf.dequantize(info(name, shape))
        }
        func matrix(_ parts: [(name: String, rows: Int)], columns: Int) throws -> WeightMatrix {
            let infos = try parts.map { try info($0.name, [columns, $0.rows]) }
            return try WeightMatrix(gguf: gguf, stacking: infos, columns: columns, residency: residency)
        }
        let d = c.modelWidth
        tokenEmbedding = try EmbeddingTable(gguf: gguf, tensor: info("token_embd.weight", [d, c.vocabularySize]))
        outputNorm = try load("output_norm.weight", [d])
        if gguf.tensors.contains(where: { $0.name == "output.weight" }) {
            output = try EmbeddingTable(gguf: gguf, tensor: info("output.weight", [d, c.vocabularySize]))
        } else {
            output = nil
        }
        blocks = try (0..<c.blockCount).map { b in
            let p = "blk.\(b)."
            var block = BlockWeights(
                attentionNorm: try load(p + "attn_norm.weight", [d]),
                qkv: try matrix([(p + "attn_q.weight", c.queryWidth), (p + "attn_k.weight", c.keyValueWidth),
                                 (p + "attn_v.weight", c.keyValueWidth)], columns: d),
                attentionOutput: try matrix([(p + "attn_output.weight", d)], columns: c.queryWidth),
                feedForwardNorm: try load(p + "ffn_norm.weight", [d]),
                gateUp: try matrix([(p + "ffn_gate.weight", c.feedForwardWidth), (p + "ffn_up.weight", c.feedForwardWidth)],
                                   columns: d),
                down: try matrix([(p + "ffn_down.weight", d)], columns: c.feedForwardWidth))
            if c.traits.biasesQueryKeyValue {
                block.qkvBias = try load(p + "attn_q.bias", [c.queryWidth]) + load(p + "attn_k.bias", [c.keyValueWidth])
                    + load(p + "attn_v.bias", [c.keyValueWidth])
            }
            if c.traits.normalizesQueriesAndKeys {
                block.queryNorm = try load(p + "attn_q_norm.weight", [c.headWidth])
                block.keyNorm = try load(p + "attn_k_norm.weight", [c.headWidth])
            }
            if c.traits.normalizesSublayerOutputs {
                block.postAttentionNorm = try load(p + "post_attention_norm.weight", [d])
                block.postFeedForwardNorm = try load(p + "post_ffw_norm.weight", [d])
            }
            return block
        }
    }

    /// Bytes the block matrices of `configuration` take as Float32 (what the dense residency holds).
    static func denseBlockBytes(_ c: ModelConfiguration) -> Int {
        let d = c.modelWidth
        let perBlock = c.fusedQKVWidth * d + d * c.queryWidth + 2 * c.feedForwardWidth * d + d * c.feedForwardWidth
        return perBlock * c.blockCount * MemoryLayout<Float>.size
    }

    /// Weights drawn by `fill`: every matrix (embedding first, then per block Q, K, V, O,
    /// gate, up, down, in that order) is passed to `fill` once, in row-major order;
    /// every norm gain is 1, there are no biases; the unembedding is tied.
    init(randomFor c: ModelConfiguration, fill: (inout [Float]) -> Void) {
        func matrix(_ rows: Int, _ columns: Int) -> [Float] {
            var m = [Float](repeating: 0, count: rows * columns)
            fill(&m)
            return m
        }
        let ones = { (n: Int) in [Float](repeating: 1, count: n) }
        let d = c.modelWidth
        tokenEmbedding = EmbeddingTable(dense: matrix(c.vocabularySize, d), rowLength: d)
        outputNorm = ones(d)
        output = nil
        blocks = (0..<c.blockCount).map { _ in
            let q = matrix(c.queryWidth, d), k = matrix(c.keyValueWidth, d), v = matrix(c.keyValueWidth, d)
            let o = matrix(d, c.queryWidth)
            let gate = matrix(c.feedForwardWidth, d), up = matrix(c.feedForwardWidth, d)
            let down = matrix(d, c.feedForwardWidth)
            var block = BlockWeights(attentionNorm: ones(d), qkv: WeightMatrix(dense: q + k + v, columns: d),
                                     attentionOutput: WeightMatrix(dense: o, columns: c.queryWidth),
                                     feedForwardNorm: ones(d), gateUp: WeightMatrix(dense: gate + up, columns: d),
                                     down: WeightMatrix(dense: down, columns: c.feedForwardWidth))
            if c.traits.normalizesQueriesAndKeys {
                block.queryNorm = ones(c.headWidth)
                block.keyNorm = ones(c.headWidth)
            }
            if c.traits.normalizesSublayerOutputs {
                block.postAttentionNorm = ones(d)
                block.postFeedForwardNorm = ones(d)
            }
            return block
        }
    }

    var unembedding: EmbeddingTable { output ?? tokenEmbedding }

    /// Floats of dequantization scratch a pass needs: the largest block's quantized matrices.
    var scratchElements: Int { blocks.map(\.scratchElements).max() ?? 0 }

    /// Bytes held by the block matrices.
    var blockMatrixBytes: Int { blocks.reduce(0) { $0 + $1.matrices.reduce(0) { $0 + $1.byteCount } } }
}
