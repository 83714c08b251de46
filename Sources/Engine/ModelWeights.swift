import GGUF

/// A norm's gain and, for a LayerNorm, its bias (empty for an RMSNorm).
struct NormWeights: Sendable {
    var gain: [Float]
    var bias: [Float] = []

    static func ones(_ count: Int, kind: NormKind) -> NormWeights {
        NormWeights(gain: [Float](repeating: 1, count: count), bias: kind == .layer ? [Float](repeating: 0, count: count) : [])
    }
}

/// The weights of one transformer block, row-major `[out][in]` as GGUF stores them.
/// Q|K|V and gate|up are fused at load (when the file keeps them apart) so each costs one GEMM.
struct BlockWeights: Sendable {
    var attentionNorm: NormWeights
    var qkv: WeightMatrix            // [fusedQKVWidth, modelWidth]
    var attentionOutput: WeightMatrix  // [modelWidth, queryWidth]
    var feedForwardNorm: NormWeights
    /// Gate|up `[2·feedForwardWidth, modelWidth]`, or just up `[feedForwardWidth, modelWidth]` for a plain feed-forward.
    var gateUp: WeightMatrix
    var down: WeightMatrix           // [modelWidth, feedForwardWidth]
    /// Biases (empty when the model has none): Q|K|V `[fusedQKVWidth]`, attention output `[modelWidth]`,
    /// gate|up (or up) and down.
    var qkvBias: [Float] = []
    var attentionOutputBias: [Float] = []
    var gateUpBias: [Float] = []
    var downBias: [Float] = []
    /// Per-head query/key norms (QK-norm families; empty otherwise).
    var queryNorm: [Float] = []
    var keyNorm: [Float] = []
    /// Sandwich norms of the sublayer outputs (empty otherwise).
    var postAttentionNorm: NormWeights?
    var postFeedForwardNorm: NormWeights?
}

/// All weights of a model. Norm gains and biases are Float32; the block matrices are Float32
/// or kept in their file format (see ``WeightResidency``); a very large embedding table stays
/// quantized either way (see ``EmbeddingTable``).
struct ModelWeights: Sendable {
    var tokenEmbedding: EmbeddingTable  // [vocabularySize, modelWidth]; also the tied unembedding
    /// Learned absolute positions `[positions][modelWidth]` (GPT-2), else `nil`.
    var positionEmbedding: [Float]?
    var outputNorm: NormWeights
    /// A separate unembedding when the file has `output.weight`; `nil` when tied.
    var output: EmbeddingTable?
    var blocks: [BlockWeights]
}

extension ModelWeights {
    /// Loads every tensor the configuration's family needs, checking each shape, with the block
    /// matrices held as `residency` says.
    init(gguf: GGUFFile, configuration c: ModelConfiguration, residency: WeightResidency) throws {
        let file = gguf.url.lastPathComponent
        let family = c.family, names = family.names
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
        func norm(_ name: String, _ width: Int) throws -> NormWeights {
            NormWeights(gain: try load(name + ".weight", [width]),
                        bias: family.norm == .layer ? try load(name + ".bias", [width]) : [])
        }
        func matrix(_ parts: [(name: String, rows: Int)], columns: Int) throws -> WeightMatrix {
            let infos = try parts.map { try info($0.name + ".weight", [columns, $0.rows]) }
            return try WeightMatrix(gguf: gguf, stacking: infos, columns: columns, residency: residency)
        }
        func bias(_ parts: [(name: String, rows: Int)]) throws -> [Float] {
            try parts.flatMap { try load($0.name + ".bias", [$0.rows]) }
        }
        let d = c.modelWidth, ff = c.feedForwardWidth
        tokenEmbedding = try EmbeddingTable(gguf: gguf, tensor: info(names.tokenEmbedding + ".weight", [d, c.vocabularySize]))
        if case .learned = family.positions {
            let rows = try gguf.tensorInfo(named: names.positionEmbedding + ".weight").rowCount
            positionEmbedding = try load(names.positionEmbedding + ".weight", [d, rows])
        } else {
            positionEmbedding = nil
        }
        outputNorm = try norm(names.outputNorm, d)
        if gguf.tensors.contains(where: { $0.name == names.output + ".weight" }) {
            output = try EmbeddingTable(gguf: gguf, tensor: info(names.output + ".weight", [d, c.vocabularySize]))
        } else {
            output = nil
        }
        blocks = try (0..<c.blockCount).map { b in
            let p = "blk.\(b)."
            let qkvParts: [(name: String, rows: Int)] = family.queryKeyValue == .fused
                ? [(p + names.fusedQKV, c.fusedQKVWidth)]
                : [(p + names.query, c.queryWidth), (p + names.key, c.keyValueWidth), (p + names.value, c.keyValueWidth)]
            let upParts: [(name: String, rows: Int)]
            switch family.feedForward {
            case .gated(.separate): upParts = [(p + names.gate, ff), (p + names.up, ff)]
            case .gated(.fused): upParts = [(p + names.up, 2 * ff)]
            case .plain: upParts = [(p + names.up, ff)]
            }
            let outputPart = [(name: p + names.attentionOutput, rows: d)]
            let downPart = [(name: p + names.down, rows: d)]
            var block = BlockWeights(
                attentionNorm: try norm(p + names.attentionNorm, d),
                qkv: try matrix(qkvParts, columns: d),
                attentionOutput: try matrix(outputPart, columns: c.queryWidth),
                feedForwardNorm: try norm(p + names.feedForwardNorm, d),
                gateUp: try matrix(upParts, columns: d),
                down: try matrix(downPart, columns: ff))
            if c.biases.contains(.queryKeyValue) { block.qkvBias = try bias(qkvParts) }
            if c.biases.contains(.attentionOutput) { block.attentionOutputBias = try bias(outputPart) }
            if c.biases.contains(.feedForward) {
                block.gateUpBias = try bias(upParts)
                block.downBias = try bias(downPart)
            }
            if family.queryKeyNorm {
                block.queryNorm = try load(p + names.queryNorm + ".weight", [c.headWidth])
                block.keyNorm = try load(p + names.keyNorm + ".weight", [c.headWidth])
            }
            if family.placement == .sandwich {
                block.postAttentionNorm = try norm(p + names.postAttentionNorm, d)
                block.postFeedForwardNorm = try norm(p + names.postFeedForwardNorm, d)
            }
            return block
        }
    }

    /// Bytes the block matrices of `configuration` take as Float32 (what the dense residency holds).
    static func denseBlockBytes(_ c: ModelConfiguration) -> Int {
        let d = c.modelWidth
        let perBlock = c.fusedQKVWidth * d + d * c.queryWidth + c.feedForwardProjectionWidth * d + d * c.feedForwardWidth
        return perBlock * c.blockCount * MemoryLayout<Float>.size
    }

    /// Weights drawn by `fill`: every matrix (embedding first, then the learned positions when
    /// the family has them, then per block Q, K, V, O, gate (gated feed-forwards only), up, down,
    /// in that order) is passed to `fill` once, in row-major order; every norm gain is 1, every
    /// bias 0; the unembedding is tied.
    init(randomFor c: ModelConfiguration, fill: (inout [Float]) -> Void) {
        func matrix(_ rows: Int, _ columns: Int) -> [Float] {
            var m = [Float](repeating: 0, count: rows * columns)
            fill(&m)
            return m
        }
        let zeros = { (n: Int) in [Float](repeating: 0, count: n) }
        let kind = c.family.norm
        let d = c.modelWidth, ff = c.feedForwardWidth
        tokenEmbedding = EmbeddingTable(dense: matrix(c.vocabularySize, d), rowLength: d)
        if case .learned = c.family.positions {
            positionEmbedding = matrix(c.contextLength, d)
        } else {
            positionEmbedding = nil
        }
        outputNorm = .ones(d, kind: kind)
        output = nil
        blocks = (0..<c.blockCount).map { _ in
            let q = matrix(c.queryWidth, d), k = matrix(c.keyValueWidth, d), v = matrix(c.keyValueWidth, d)
            let o = matrix(d, c.queryWidth)
            var gateUp: [Float] = []
            if case .gated = c.family.feedForward { gateUp = matrix(ff, d) }
            gateUp += matrix(ff, d)
            let down = matrix(d, ff)
            var block = BlockWeights(attentionNorm: .ones(d, kind: kind), qkv: WeightMatrix(dense: q + k + v, columns: d),
                                     attentionOutput: WeightMatrix(dense: o, columns: c.queryWidth),
                                     feedForwardNorm: .ones(d, kind: kind), gateUp: WeightMatrix(dense: gateUp, columns: d),
                                     down: WeightMatrix(dense: down, columns: ff))
            if c.biases.contains(.queryKeyValue) { block.qkvBias = zeros(c.fusedQKVWidth) }
            if c.biases.contains(.attentionOutput) { block.attentionOutputBias = zeros(d) }
            if c.biases.contains(.feedForward) {
                block.gateUpBias = zeros(c.feedForwardProjectionWidth)
                block.downBias = zeros(d)
            }
            if c.family.queryKeyNorm {
                block.queryNorm = [Float](repeating: 1, count: c.headWidth)
                block.keyNorm = [Float](repeating: 1, count: c.headWidth)
            }
            if c.family.placement == .sandwich {
                block.postAttentionNorm = .ones(d, kind: kind)
                block.postFeedForwardNorm = .ones(d, kind: kind)
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
