import Foundation

/// Keys and values of every block for a set of prompts, kept after a prefill so an edit of
/// the last position can be re-run one token per block (see ``LanguageModel/resume(_:rows:fromResidual:capture:afterBlock:)``).
public struct PrefixCache: Sendable {
    /// Prompt `i` owns cache rows `tokenOffsets[i] ..< tokenOffsets[i + 1]`.
    public let tokenOffsets: [Int]
    /// Per block, `[token][K | V]` with K after RoPE (and Gemma's key norm).
    var keyValues: [[Float]]

    public var promptCount: Int { tokenOffsets.count - 1 }
    public func tokenCount(prompt: Int) -> Int { tokenOffsets[prompt + 1] - tokenOffsets[prompt] }
}

/// Scratch buffers for `rows` rows; allocated once per batch.
struct Workspace {
    var normed: [Float]
    var qkv: [Float]
    var attention: [Float]
    var projected: [Float]
    var gateUp: [Float]
    var activated: [Float]

    init(rows: Int, configuration c: ModelConfiguration) {
        normed = [Float](repeating: 0, count: rows * c.modelWidth)
        qkv = [Float](repeating: 0, count: rows * c.fusedQKVWidth)
        attention = [Float](repeating: 0, count: rows * c.queryWidth)
        projected = [Float](repeating: 0, count: rows * c.modelWidth)
        gateUp = [Float](repeating: 0, count: rows * 2 * c.feedForwardWidth)
        activated = [Float](repeating: 0, count: rows * c.feedForwardWidth)
    }
}

extension LanguageModel {
    /// Runs `prompts` (token ids; each processed as one causal sequence) and keeps what `plan` asks for.
    public func capture(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention] = []) throws -> ActivationCapture {
        try run(prompts, plan: plan, interventions: interventions, keepCache: false).capture
    }

    /// Like ``capture(_:plan:interventions:)``, and also returns the keys and values of every
    /// block so the last position can later be edited and re-run cheaply.
    public func prefill(_ prompts: [[Int]], plan: CapturePlan) throws -> (capture: ActivationCapture, cache: PrefixCache) {
        let result = try run(prompts, plan: plan, interventions: [], keepCache: true)
        return (result.capture, result.cache!)
    }

    func run(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention],
             keepCache: Bool) throws -> (capture: ActivationCapture, cache: PrefixCache?) {
        try validate(prompts)
        let c = configuration
        for hook in plan.hooks {
            switch hook {
            case .residual(let l) where !(0...c.blockCount).contains(l),
                 .residualMid(let l) where !(0..<c.blockCount).contains(l):
                throw EngineError.invalidInput("hook \(hook) is outside this \(c.blockCount)-block model")
            default: break
            }
        }
        for i in interventions where !(0...c.blockCount).contains(i.residualIndex) {
            throw EngineError.invalidInput("intervention at residual \(i.residualIndex) is outside 0...\(c.blockCount)")
        }

        let rowsPerPrompt = prompts.map { plan.positions == .last ? 1 : $0.count }
        var capture = ActivationCapture(hooks: plan.hooks, width: c.modelWidth, rowsPerPrompt: rowsPerPrompt)
        var tokenOffsets = [0]
        for p in prompts { tokenOffsets.append(tokenOffsets.last! + p.count) }
        var keyValues = keepCache
            ? Array(repeating: [Float](repeating: 0, count: tokenOffsets.last! * 2 * c.keyValueWidth), count: c.blockCount)
            : []
        let ropeTables = RoPETables(configuration: c, positions: prompts.map(\.count).max()!)

        // Batches of whole prompts, at most maxBatchTokens tokens (a longer prompt runs alone).
        var start = 0
        while start < prompts.count {
            var end = start + 1
            var tokens = prompts[start].count
            while end < prompts.count, tokens + prompts[end].count <= maxBatchTokens {
                tokens += prompts[end].count
                end += 1
            }
            runBatch(prompts, range: start..<end, plan: plan, interventions: interventions, ropeTables: ropeTables,
                     capture: &capture, keyValues: &keyValues, tokenOffsets: tokenOffsets)
            start = end
        }
        let cache = keepCache ? PrefixCache(tokenOffsets: tokenOffsets, keyValues: keyValues) : nil
        return (capture, cache)
    }

    private func runBatch(_ prompts: [[Int]], range: Range<Int>, plan: CapturePlan, interventions: [Intervention],
                          ropeTables: RoPETables, capture: inout ActivationCapture,
                          keyValues: inout [[Float]], tokenOffsets: [Int]) {
        let c = configuration
        let d = c.modelWidth
        var starts = [0]
        for p in range { starts.append(starts.last! + prompts[p].count) }
        let rows = starts.last!
        var positions = [Int](repeating: 0, count: rows)
        for (k, p) in range.enumerated() {
            for j in 0..<prompts[p].count { positions[starts[k] + j] = j }
        }
        var x = [Float](repeating: 0, count: rows * d)
        weights.tokenEmbedding.withUnsafeBufferPointer { embedding in
            for (k, p) in range.enumerated() {
                for (j, token) in prompts[p].enumerated() {
                    let source = embedding.baseAddress! + token * d
                    let row = (starts[k] + j) * d
                    for i in 0..<d { x[row + i] = source[i] * c.traits.embeddingScale }
                }
            }
        }
        var workspace = Workspace(rows: rows, configuration: c)

        func record(_ hook: HookPoint, from state: [Float]) {
            guard let h = capture.hooks.firstIndex(of: hook) else { return }
            let hookCount = capture.hooks.count
            for (k, p) in range.enumerated() {
                let length = prompts[p].count
                let firstKept = plan.positions == .last ? length - 1 : 0
                for j in firstKept..<length {
                    let row = capture.rowOffsets[p] + (j - firstKept)
                    let destination = (row * hookCount + h) * d
                    let source = (starts[k] + j) * d
                    for i in 0..<d { capture.values[destination + i] = state[source + i] }
                }
            }
        }
        func intervene(at index: Int) {
            for intervention in interventions where intervention.residualIndex == index {
                x.withUnsafeMutableBufferPointer { buffer in
                    for (k, p) in range.enumerated() {
                        let slice = UnsafeMutableBufferPointer(rebasing: buffer[starts[k] * d ..< starts[k + 1] * d])
                        intervention.edit(p, slice)
                    }
                }
            }
        }

        for b in 0..<c.blockCount {
            intervene(at: b)
            record(.residual(b), from: x)
            let layout = c.layouts[b]
            let table = ropeTables.table(base: layout.ropeBase)
            forwardBlock(b, x: &x, rows: rows, workspace: &workspace, positions: positions, rope: table,
                         afterAttention: { record(.residualMid(b), from: $0) }) { qkv, attention in
                // Causal (optionally windowed) attention inside each prompt.
                self.attendWithinPrompts(qkv: qkv, out: attention, starts: starts, window: layout.window)
                if !keyValues.isEmpty {
                    let kvw = c.keyValueWidth
                    for (k, p) in range.enumerated() {
                        for j in 0..<(starts[k + 1] - starts[k]) {
                            let source = qkv + (starts[k] + j) * c.fusedQKVWidth + c.queryWidth
                            let destination = (tokenOffsets[p] + j) * 2 * kvw
                            keyValues[b].withUnsafeMutableBufferPointer { kv in
                                (kv.baseAddress! + destination).update(from: source, count: 2 * kvw)
                            }
                        }
                    }
                }
            }
        }
        intervene(at: c.blockCount)
        record(.residual(c.blockCount), from: x)
        if capture.hooks.contains(.finalNorm) {
            record(.finalNorm, from: finalNorm(x, rows: rows))
        }
    }

    /// One transformer block over `rows` rows of `x`, in place. `attend` reads the fused
    /// Q|K|V rows (RoPE and norms already applied) and writes `[rows][queryWidth]`.
    func forwardBlock(_ b: Int, x: inout [Float], rows: Int, workspace w: inout Workspace, positions: [Int],
                      rope: RoPETable, afterAttention: ([Float]) -> Void,
                      attend: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let c = configuration
        let d = c.modelWidth, ff = c.feedForwardWidth, qkvw = c.fusedQKVWidth
        let block = weights.blocks[b]
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            w.normed.withUnsafeMutableBufferPointer { normed in
            w.qkv.withUnsafeMutableBufferPointer { qkv in
            w.attention.withUnsafeMutableBufferPointer { attention in
            w.projected.withUnsafeMutableBufferPointer { projected in
                block.attentionNorm.withUnsafeBufferPointer {
                    rmsNorm(x, normed.baseAddress!, rows: rows, width: d, weight: $0.baseAddress!, epsilon: c.normEpsilon)
                }
                block.qkv.withUnsafeBufferPointer {
                    gemmTransposedB(m: rows, n: qkvw, k: d, a: normed.baseAddress!, lda: d,
                                    b: $0.baseAddress!, ldb: d, c: qkv.baseAddress!, ldc: qkvw)
                }
                let q = qkv.baseAddress!, k = q + c.queryWidth
                if c.traits.normalizesQueriesAndKeys {
                    block.queryNorm.withUnsafeBufferPointer {
                        headNorm(q, rows: rows, rowStride: qkvw, heads: c.headCount, headWidth: c.headWidth,
                                 weight: $0.baseAddress!, epsilon: c.normEpsilon)
                    }
                    block.keyNorm.withUnsafeBufferPointer {
                        headNorm(k, rows: rows, rowStride: qkvw, heads: c.keyValueHeadCount, headWidth: c.headWidth,
                                 weight: $0.baseAddress!, epsilon: c.normEpsilon)
                    }
                }
                rope.cos.withUnsafeBufferPointer { cosTable in
                    rope.sin.withUnsafeBufferPointer { sinTable in
                        for r in 0..<rows {
                            applyRoPE(q + r * qkvw, heads: c.headCount, headWidth: c.headWidth, position: positions[r],
                                      table: cosTable.baseAddress!, sinTable: sinTable.baseAddress!,
                                      pairs: rope.pairs, pairing: c.traits.ropePairing)
                            applyRoPE(k + r * qkvw, heads: c.keyValueHeadCount, headWidth: c.headWidth,
                                      position: positions[r], table: cosTable.baseAddress!,
                                      sinTable: sinTable.baseAddress!, pairs: rope.pairs,
                                      pairing: c.traits.ropePairing)
                        }
                    }
                }
                attend(q, attention.baseAddress!)
                block.attentionOutput.withUnsafeBufferPointer {
                    gemmTransposedB(m: rows, n: d, k: c.queryWidth, a: attention.baseAddress!, lda: c.queryWidth,
                                    b: $0.baseAddress!, ldb: c.queryWidth, c: projected.baseAddress!, ldc: d)
                }
                if c.traits.normalizesSublayerOutputs {
                    block.postAttentionNorm.withUnsafeBufferPointer {
                        rmsNorm(projected.baseAddress!, projected.baseAddress!, rows: rows, width: d,
                                weight: $0.baseAddress!, epsilon: c.normEpsilon)
                    }
                }
                addInPlace(x, projected.baseAddress!, count: rows * d)
            }}}}
        }
        afterAttention(x)
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            w.normed.withUnsafeMutableBufferPointer { normed in
            w.gateUp.withUnsafeMutableBufferPointer { gateUp in
            w.activated.withUnsafeMutableBufferPointer { activated in
            w.projected.withUnsafeMutableBufferPointer { projected in
                block.feedForwardNorm.withUnsafeBufferPointer {
                    rmsNorm(x, normed.baseAddress!, rows: rows, width: d, weight: $0.baseAddress!, epsilon: c.normEpsilon)
                }
                block.gateUp.withUnsafeBufferPointer {
                    gemmTransposedB(m: rows, n: 2 * ff, k: d, a: normed.baseAddress!, lda: d,
                                    b: $0.baseAddress!, ldb: d, c: gateUp.baseAddress!, ldc: 2 * ff)
                }
                gatedActivation(gateUp.baseAddress!, activated.baseAddress!, rows: rows, width: ff,
                                activation: c.traits.activation)
                block.down.withUnsafeBufferPointer {
                    gemmTransposedB(m: rows, n: d, k: ff, a: activated.baseAddress!, lda: ff,
                                    b: $0.baseAddress!, ldb: ff, c: projected.baseAddress!, ldc: d)
                }
                if c.traits.normalizesSublayerOutputs {
                    block.postFeedForwardNorm.withUnsafeBufferPointer {
                        rmsNorm(projected.baseAddress!, projected.baseAddress!, rows: rows, width: d,
                                weight: $0.baseAddress!, epsilon: c.normEpsilon)
                    }
                }
                addInPlace(x, projected.baseAddress!, count: rows * d)
            }}}}
        }
    }

    /// Full-sequence attention, each prompt separately, each query head against its KV head.
    private func attendWithinPrompts(qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                                     starts: [Int], window: Int?) {
        let c = configuration
        let hd = c.headWidth, qkvw = c.fusedQKVWidth, group = c.headCount / c.keyValueHeadCount
        let longest = zip(starts.dropFirst(), starts).map { $0 - $1 }.max() ?? 0
        var scores = [Float](repeating: 0, count: longest * longest)
        scores.withUnsafeMutableBufferPointer { sb in
            let s = sb.baseAddress!
            for k in 0..<(starts.count - 1) {
                let t = starts[k + 1] - starts[k]
                let base = qkv + starts[k] * qkvw
                for h in 0..<c.headCount {
                    let g = h / group
                    let q = base + h * hd
                    let key = base + c.queryWidth + g * hd
                    let value = base + c.queryWidth + c.keyValueWidth + g * hd
                    gemmTransposedB(m: t, n: t, k: hd, alpha: c.attentionScale, a: q, lda: qkvw,
                                    b: key, ldb: qkvw, c: s, ldc: t)
                    for i in 0..<t {
                        let row = s + i * t
                        let first = window.map { max(0, i - $0 + 1) } ?? 0
                        for j in 0..<first { row[j] = 0 }
                        softmax(row + first, count: i + 1 - first)
                        for j in (i + 1)..<max(i + 1, t) { row[j] = 0 }
                    }
                    gemm(m: t, n: hd, k: t, a: s, lda: t, b: value, ldb: qkvw,
                         c: out + starts[k] * c.queryWidth + h * hd, ldc: c.queryWidth)
                }
            }
        }
    }
}

/// RoPE tables for each distinct base a model uses.
struct RoPETables {
    private var tables: [Double: RoPETable]

    init(configuration c: ModelConfiguration, positions: Int) {
        tables = [:]
        for layout in c.layouts where tables[layout.ropeBase] == nil {
            tables[layout.ropeBase] = RoPETable(positions: positions, dimensions: c.ropeDimensions, base: layout.ropeBase)
        }
    }

    func table(base: Double) -> RoPETable { tables[base]! }
}
