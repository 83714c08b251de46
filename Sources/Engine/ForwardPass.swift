import Profiling
import Foundation

/// Keys and values of every block for a set of prompts, kept after a prefill so an edit of
/// the last position can be re-run one token per block (see ``LanguageModel/resume(_:rows:fromResidual:capture:afterBlock:)``).
public struct PrefixCache: Sendable {
    /// Prompt `i` owns cache rows `tokenOffsets[i] ..< tokenOffsets[i + 1]`.
    public let tokenOffsets: [Int]
    /// Per block, `[token][K | V]` with K after RoPE (and Gemma's key norm); empty for a cache
    /// another engine holds.
    var keyValues: [[Float]]
    /// How another engine (a worker process) finds the cache it holds; nil for this engine's own.
    public let externalHandle: (any Sendable)?

    init(tokenOffsets: [Int], keyValues: [[Float]]) {
        self.tokenOffsets = tokenOffsets
        self.keyValues = keyValues
        externalHandle = nil
    }

    /// A cache held by another ``ResidualModel`` implementation, known here only by its handle.
    public init(tokenOffsets: [Int], externalHandle: any Sendable) {
        self.tokenOffsets = tokenOffsets
        keyValues = []
        self.externalHandle = externalHandle
    }

    public var promptCount: Int { tokenOffsets.count - 1 }
    public func tokenCount(prompt: Int) -> Int { tokenOffsets[prompt + 1] - tokenOffsets[prompt] }
}

/// Scratch buffers for `rows` rows; allocated once per batch. Workers write disjoint rows.
final class Workspace {
    let normed: UnsafeMutablePointer<Float>
    let qkv: UnsafeMutablePointer<Float>
    let attention: UnsafeMutablePointer<Float>
    let projected: UnsafeMutablePointer<Float>
    let gateUp: UnsafeMutablePointer<Float>
    let activated: UnsafeMutablePointer<Float>
    /// Where a quantized block's matrices are dequantized (nil when every matrix is dense).
    let scratch: DequantizationScratch?
    private let storage: UnsafeMutablePointer<Float>

    init(rows: Int, configuration c: ModelConfiguration, scratchElements: Int) {
        scratch = scratchElements > 0 ? DequantizationScratch(capacity: scratchElements) : nil
        let sizes = [c.modelWidth, c.fusedQKVWidth, c.queryWidth, c.modelWidth, c.feedForwardProjectionWidth,
                     c.feedForwardWidth].map { $0 * rows }
        let total = sizes.reduce(0, +)
        // Left uninitialized: every buffer is written (by a kernel or a beta-0 GEMM) before it is read.
        storage = .allocate(capacity: total)
        var offsets = [0]
        for size in sizes { offsets.append(offsets.last! + size) }
        normed = storage + offsets[0]
        qkv = storage + offsets[1]
        attention = storage + offsets[2]
        projected = storage + offsets[3]
        gateUp = storage + offsets[4]
        activated = storage + offsets[5]
    }

    deinit { storage.deallocate() }
}

extension LanguageModel {
    /// Runs `prompts` (token ids; each processed as one causal sequence) and keeps what `plan` asks for.
    ///
    /// `progress`, when given, is called on the calling thread with (prompts done, prompts in all)
    /// before the first batch and after each one; it only observes.
    public func capture(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention] = [],
                        progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> ActivationCapture {
        try PhaseClock.time(.forward, work: prompts.reduce(0) { $0 + $1.count }) {
            try run(prompts, plan: plan, interventions: interventions, keepCache: false, progress: progress).capture
        }
    }

    /// Like ``capture(_:plan:interventions:)``, and also returns the keys and values of every
    /// block so the last position can later be edited and re-run cheaply.
    public func prefill(_ prompts: [[Int]], plan: CapturePlan) throws -> (capture: ActivationCapture, cache: PrefixCache) {
        let result = try PhaseClock.time(.forward, work: prompts.reduce(0) { $0 + $1.count }) {
            try run(prompts, plan: plan, interventions: [], keepCache: true)
        }
        return (result.capture, result.cache!)
    }

    func run(_ prompts: [[Int]], plan: CapturePlan, interventions: [Intervention],
             keepCache: Bool, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> (capture: ActivationCapture, cache: PrefixCache?) {
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

        EngineThreads.run { workers in
            // Batches of whole prompts, at most maxBatchTokens tokens (a longer prompt runs alone).
            var start = 0
            progress?(0, prompts.count)
            while start < prompts.count {
                var end = start + 1
                var tokens = prompts[start].count
                while end < prompts.count, tokens + prompts[end].count <= maxBatchTokens {
                    tokens += prompts[end].count
                    end += 1
                }
                runBatch(prompts, range: start..<end, plan: plan, interventions: interventions, ropeTables: ropeTables,
                         workers: workers, capture: &capture, keyValues: &keyValues, tokenOffsets: tokenOffsets)
                start = end
                progress?(end, prompts.count)
            }
        }
        let cache = keepCache ? PrefixCache(tokenOffsets: tokenOffsets, keyValues: keyValues) : nil
        return (capture, cache)
    }

    private func runBatch(_ prompts: [[Int]], range: Range<Int>, plan: CapturePlan, interventions: [Intervention],
                          ropeTables: RoPETables, workers: Int, capture: inout ActivationCapture,
                          keyValues: inout [[Float]], tokenOffsets: [Int]) {
        let c = configuration
        let d = c.modelWidth
        var starts = [0]
        for p in range { starts.append(starts.last! + prompts[p].count) }
        let rows = starts.last!
        var positions = [Int](repeating: 0, count: rows)
        var tokens = [Int](repeating: 0, count: rows)
        var cacheRows = [Int](repeating: 0, count: rows)
        for (k, p) in range.enumerated() {
            for (j, token) in prompts[p].enumerated() {
                positions[starts[k] + j] = j
                tokens[starts[k] + j] = token
                cacheRows[starts[k] + j] = tokenOffsets[p] + j
            }
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        defer { x.deallocate() }
        weights.tokenEmbedding.gather(tokens, scale: c.embeddingScale, into: x, workers: workers)
        addPositionEmbedding(x, positions: positions)
        let workspace = Workspace(rows: rows, configuration: c, scratchElements: weights.scratchElements)

        // Attention work items are (prompt, head) pairs, costing ~t² each, dealt out by cost.
        let lengths = (0..<range.count).map { starts[$0 + 1] - starts[$0] }
        let longest = lengths.max() ?? 0
        var costs: [Int] = []
        for t in lengths { costs += Array(repeating: t * t, count: c.headCount) }
        let itemShares = balancedShares(costs: costs, workers: workers)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: workers * longest * longest)
        defer { scores.deallocate() }

        func record(_ hook: HookPoint) {
            guard let h = capture.hooks.firstIndex(of: hook) else { return }
            let hookCount = capture.hooks.count
            let rowOffsets = capture.rowOffsets
            capture.values.withUnsafeMutableBufferPointer { out in
                for (k, p) in range.enumerated() {
                    let length = prompts[p].count
                    let firstKept = plan.positions == .last ? length - 1 : 0
                    for j in firstKept..<length {
                        let row = rowOffsets[p] + (j - firstKept)
                        (out.baseAddress! + (row * hookCount + h) * d).update(from: x + (starts[k] + j) * d, count: d)
                    }
                }
            }
        }
        func intervene(at index: Int) {
            for intervention in interventions where intervention.residualIndex == index {
                for (k, p) in range.enumerated() {
                    intervention.edit(p, UnsafeMutableBufferPointer(start: x + starts[k] * d, count: starts[k + 1] * d - starts[k] * d))
                }
            }
        }
        let recordsMid = capture.hooks.contains { if case .residualMid = $0 { true } else { false } }

        for b in 0..<c.blockCount {
            intervene(at: b)
            record(.residual(b))
            let layout = c.layouts[b]
            let keepsCache = !keyValues.isEmpty
            let kvw = c.keyValueWidth, qkvw = c.fusedQKVWidth
            func withCache(_ body: (UnsafeMutablePointer<Float>?) -> Void) {
                if keepsCache { keyValues[b].withUnsafeMutableBufferPointer { body($0.baseAddress!) } } else { body(nil) }
            }
            withCache { cacheBase in
            forwardBlock(b, x: x, rows: rows, workspace: workspace, positions: positions,
                         rope: ropeTables.table(base: layout.ropeBase), workers: workers,
                         pausesAfterAttention: recordsMid, afterAttention: { record(.residualMid(b)) }) { worker, workers in
                // Causal (optionally windowed) attention inside each prompt.
                self.attendWithinPrompts(qkv: workspace.qkv, out: workspace.attention, starts: starts,
                                         items: itemShares[worker], scores: scores + worker * longest * longest,
                                         window: layout.window)
                if let cacheBase {
                    // Each worker copies only its own rows' keys and values.
                    for r in share(of: rows, worker: worker, workers: workers) {
                        (cacheBase + cacheRows[r] * 2 * kvw).update(from: workspace.qkv + r * qkvw + c.queryWidth,
                                                                     count: 2 * kvw)
                    }
                }
            }
            }
        }
        intervene(at: c.blockCount)
        record(.residual(c.blockCount))
        if let h = capture.hooks.firstIndex(of: .finalNorm) {
            // The final norm only for the kept rows.
            let hookCount = capture.hooks.count
            let rowOffsets = capture.rowOffsets
            capture.values.withUnsafeMutableBufferPointer { out in
                for (k, p) in range.enumerated() {
                    let length = prompts[p].count
                    let firstKept = plan.positions == .last ? length - 1 : 0
                    for j in firstKept..<length {
                        let row = rowOffsets[p] + (j - firstKept)
                        applyNorm(c.family.norm, weights.outputNorm, x + (starts[k] + j) * d,
                                  out.baseAddress! + (row * hookCount + h) * d, rows: 1, width: d, epsilon: c.normEpsilon)
                    }
                }
            }
        }
    }

    /// One transformer block over `rows` rows of `x`, in place, split across `workers`.
    ///
    /// `attend(worker, workers)` reads the fused Q|K|V rows of `w.qkv` (RoPE and norms already
    /// applied) and writes its share of `w.attention` (`[rows][queryWidth]`); it runs after every
    /// row's Q|K|V is ready. With `pausesAfterAttention`, `afterAttention` sees `x` after the attention update.
    func forwardBlock(_ b: Int, x: UnsafeMutablePointer<Float>, rows: Int, workspace w: Workspace, positions: [Int],
                      rope: RoPETable, workers: Int, pausesAfterAttention: Bool = false, afterAttention: () -> Void = {},
                      attend: (_ worker: Int, _ workers: Int) -> Void) {
        let c = configuration
        let family = c.family
        let d = c.modelWidth, ff = c.feedForwardWidth, qkvw = c.fusedQKVWidth, qw = c.queryWidth
        let ffp = c.feedForwardProjectionWidth
        let block = weights.blocks[b]
        let matrices = block.resolveMatrices(scratch: w.scratch, workers: workers)

        // Phase 1, by rows: norm, Q|K|V projection, query/key norms, RoPE.
        forEachWorker(workers) { worker in
            let share = share(of: rows, worker: worker, workers: workers)
            guard !share.isEmpty else { return }
            let r0 = share.lowerBound, m = share.count
            applyNorm(family.norm, block.attentionNorm, x + r0 * d, w.normed + r0 * d, rows: m, width: d, epsilon: c.normEpsilon)
            gemmTransposedB(m: m, n: qkvw, k: d, a: w.normed + r0 * d, lda: d,
                            b: matrices.qkv, ldb: d, c: w.qkv + r0 * qkvw, ldc: qkvw)
            if !block.qkvBias.isEmpty {
                block.qkvBias.withUnsafeBufferPointer {
                    addRowBias(w.qkv + r0 * qkvw, rows: m, width: qkvw, bias: $0.baseAddress!)
                }
            }
            let q = w.qkv + r0 * qkvw, k = q + qw
            if family.queryKeyNorm {
                block.queryNorm.withUnsafeBufferPointer {
                    headNorm(q, rows: m, rowStride: qkvw, heads: c.headCount, headWidth: c.headWidth,
                             weight: $0.baseAddress!, epsilon: c.normEpsilon)
                }
                block.keyNorm.withUnsafeBufferPointer {
                    headNorm(k, rows: m, rowStride: qkvw, heads: c.keyValueHeadCount, headWidth: c.headWidth,
                             weight: $0.baseAddress!, epsilon: c.normEpsilon)
                }
            }
            if case .rotary(let pairing) = family.positions {
                rope.cos.withUnsafeBufferPointer { cosTable in
                    rope.sin.withUnsafeBufferPointer { sinTable in
                        for r in 0..<m {
                            applyRoPE(q + r * qkvw, heads: c.headCount, headWidth: c.headWidth, position: positions[r0 + r],
                                      table: cosTable.baseAddress!, sinTable: sinTable.baseAddress!,
                                      pairs: rope.pairs, pairing: pairing)
                            applyRoPE(k + r * qkvw, heads: c.keyValueHeadCount, headWidth: c.headWidth,
                                      position: positions[r0 + r], table: cosTable.baseAddress!,
                                      sinTable: sinTable.baseAddress!, pairs: rope.pairs, pairing: pairing)
                        }
                    }
                }
            }
        }

        // Phase 2: attention, split by the caller.
        forEachWorker(workers) { worker in attend(worker, workers) }

        // Phase 3, by rows: output projection and residual add, then the feed-forward sublayer.
        /// x += input·Wᵀ + bias (one GEMM into the residual), or x += postNorm(input·Wᵀ + bias)
        /// when the family normalizes sublayer outputs (Gemma's sandwich).
        func addSublayerOutput(_ input: UnsafeMutablePointer<Float>, width k: Int, weight: UnsafePointer<Float>,
                               bias: [Float], postNorm: NormWeights?, _ r0: Int, _ m: Int) {
            if let postNorm {
                gemmTransposedB(m: m, n: d, k: k, a: input + r0 * k, lda: k,
                                b: weight, ldb: k, c: w.projected + r0 * d, ldc: d)
                if !bias.isEmpty {
                    bias.withUnsafeBufferPointer { addRowBias(w.projected + r0 * d, rows: m, width: d, bias: $0.baseAddress!) }
                }
                applyNorm(family.norm, postNorm, w.projected + r0 * d, w.projected + r0 * d, rows: m, width: d,
                          epsilon: c.normEpsilon)
                addInPlace(x + r0 * d, w.projected + r0 * d, count: m * d)
            } else {
                gemmTransposedB(m: m, n: d, k: k, a: input + r0 * k, lda: k,
                                b: weight, ldb: k, beta: 1, c: x + r0 * d, ldc: d)
                if !bias.isEmpty {
                    bias.withUnsafeBufferPointer { addRowBias(x + r0 * d, rows: m, width: d, bias: $0.baseAddress!) }
                }
            }
        }
        func attentionUpdate(_ r0: Int, _ m: Int) {
            addSublayerOutput(w.attention, width: qw, weight: matrices.attentionOutput, bias: block.attentionOutputBias,
                              postNorm: block.postAttentionNorm, r0, m)
        }
        func feedForwardUpdate(_ r0: Int, _ m: Int) {
            applyNorm(family.norm, block.feedForwardNorm, x + r0 * d, w.normed + r0 * d, rows: m, width: d, epsilon: c.normEpsilon)
            gemmTransposedB(m: m, n: ffp, k: d, a: w.normed + r0 * d, lda: d,
                            b: matrices.gateUp, ldb: d, c: w.gateUp + r0 * ffp, ldc: ffp)
            if !block.gateUpBias.isEmpty {
                block.gateUpBias.withUnsafeBufferPointer { addRowBias(w.gateUp + r0 * ffp, rows: m, width: ffp, bias: $0.baseAddress!) }
            }
            switch family.feedForward {
            case .gated:
                gatedActivation(w.gateUp + r0 * ffp, w.activated + r0 * ff, rows: m, width: ff, activation: family.activation)
            case .plain:
                activate(w.gateUp + r0 * ffp, w.activated + r0 * ff, count: m * ff, activation: family.activation)
            }
            addSublayerOutput(w.activated, width: ff, weight: matrices.down, bias: block.downBias,
                              postNorm: block.postFeedForwardNorm, r0, m)
        }
        if pausesAfterAttention {
            forEachWorker(workers) { worker in
                let share = share(of: rows, worker: worker, workers: workers)
                if !share.isEmpty { attentionUpdate(share.lowerBound, share.count) }
            }
            afterAttention()
            forEachWorker(workers) { worker in
                let share = share(of: rows, worker: worker, workers: workers)
                if !share.isEmpty { feedForwardUpdate(share.lowerBound, share.count) }
            }
        } else {
            forEachWorker(workers) { worker in
                let share = share(of: rows, worker: worker, workers: workers)
                guard !share.isEmpty else { return }
                attentionUpdate(share.lowerBound, share.count)
                feedForwardUpdate(share.lowerBound, share.count)
            }
        }
    }

    /// Full-sequence attention for the (prompt, head) items `items` (item = prompt · heads + head),
    /// each query head against its KV head. `scores` holds `longest²` floats.
    private func attendWithinPrompts(qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                                     starts: [Int], items: Range<Int>, scores s: UnsafeMutablePointer<Float>,
                                     window: Int?) {
        let c = configuration
        let hd = c.headWidth, qkvw = c.fusedQKVWidth, group = c.headCount / c.keyValueHeadCount
        for item in items {
            let k = item / c.headCount, h = item % c.headCount
            let t = starts[k + 1] - starts[k]
            let base = qkv + starts[k] * qkvw
            let g = h / group
            let q = base + h * hd
            let key = base + c.queryWidth + g * hd
            let value = base + c.queryWidth + c.keyValueWidth + g * hd
            gemmTransposedB(m: t, n: t, k: hd, alpha: c.attentionScale, a: q, lda: qkvw,
                            b: key, ldb: qkvw, c: s, ldc: t)
            for i in 0..<t {
                let row = s + i * t
                let first = window.map { max(0, i - $0 + 1) } ?? 0
                if let cap = c.attentionSoftCap { softCap(row + first, count: i + 1 - first, cap: cap) }
                for j in 0..<first { row[j] = 0 }
                softmax(row + first, count: i + 1 - first)
                for j in (i + 1)..<max(i + 1, t) { row[j] = 0 }
            }
            gemm(m: t, n: hd, k: t, a: s, lda: t, b: value, ldb: qkvw,
                 c: out + starts[k] * c.queryWidth + h * hd, ldc: c.queryWidth)
        }
    }
}

extension LanguageModel {
    /// Adds the learned position rows (GPT-2) to `x`, one per row at `positions[r]`.
    func addPositionEmbedding(_ x: UnsafeMutablePointer<Float>, positions: [Int]) {
        guard let table = weights.positionEmbedding else { return }
        let d = configuration.modelWidth
        table.withUnsafeBufferPointer { rows in
            for (r, position) in positions.enumerated() {
                addInPlace(x + r * d, rows.baseAddress! + position * d, count: d)
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
            // Learned-position families have no rotary dimensions; their table is empty and unused.
            tables[layout.ropeBase] = RoPETable(positions: positions, dimensions: c.ropeDimensions, base: layout.ropeBase)
        }
    }

    func table(base: Double) -> RoPETable { tables[base]! }
}
