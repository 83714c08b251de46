import GGUF

/// Float32 weights of one transformer block, row-major `[out][in]` as GGUF stores them.
/// Q|K|V and gate|up are fused at load so each costs one GEMM.
struct BlockWeights: Sendable {
    var attentionNorm: [Float]
    var qkv: [Float]           // [fusedQKVWidth, modelWidth]
    var attentionOutput: [Float]  // [modelWidth, queryWidth]
    var feedForwardNorm: [Float]
    var gateUp: [Float]        // [2·feedForwardWidth, modelWidth]
    var down: [Float]          // [modelWidth, feedForwardWidth]
    // Gemma 3 only (empty otherwise).
    var queryNorm: [Float] = []
    var keyNorm: [Float] = []
    var postAttentionNorm: [Float] = []
    var postFeedForwardNorm: [Float] = []
}

/// All weights of a model, dequantized once to Float32 (except a very large embedding table,
/// see ``EmbeddingTable``).
struct ModelWeights: Sendable {
    var tokenEmbedding: EmbeddingTable  // [vocabularySize, modelWidth]; also the tied unembedding
    var outputNorm: [Float]
    /// A separate unembedding when the file has `output.weight`; `nil` when tied.
    var output: EmbeddingTable?
    var blocks: [BlockWeights]
}

extension ModelWeights {
    /// Dequantizes every tensor the configuration needs, checking each shape.
    init(gguf: GGUFFile, configuration c: ModelConfiguration) throws {
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
                qkv: try load(p + "attn_q.weight", [d, c.queryWidth])
                    + load(p + "attn_k.weight", [d, c.keyValueWidth])
                    + load(p + "attn_v.weight", [d, c.keyValueWidth]),
                attentionOutput: try load(p + "attn_output.weight", [c.queryWidth, d]),
                feedForwardNorm: try load(p + "ffn_norm.weight", [d]),
                gateUp: try load(p + "ffn_gate.weight", [d, c.feedForwardWidth])
                    + load(p + "ffn_up.weight", [d, c.feedForwardWidth]),
                down: try load(p + "ffn_down.weight", [c.feedForwardWidth, d]))
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

    /// Weights drawn by `fill`: every matrix (embedding first, then per block Q, K, V, O,
    /// gate, up, down, in that order) is passed to `fill` once, in row-major order;
    /// every norm gain is 1; the unembedding is tied.
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
            var block = BlockWeights(attentionNorm: ones(d), qkv: q + k + v, attentionOutput: o,
                                     feedForwardNorm: ones(d), gateUp: gate + up, down: down)
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
}
