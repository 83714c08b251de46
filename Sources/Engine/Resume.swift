import Profiling
import Foundation

/// One edited last position to re-run: the prompt whose cached prefix it attends to, and
/// the residual state it starts from.
public struct ResumeRow: Sendable {
    public var prompt: Int
    public var residual: [Float]

    public init(prompt: Int, residual: [Float]) {
        self.prompt = prompt
        self.residual = residual
    }
}

extension LanguageModel {
    /// Re-runs the **last position** of cached prompts from residual index `start` with new
    /// residual states, attending to the cached keys and values of the earlier positions.
    ///
    /// Causal attention leaves earlier positions untouched by an edit of the last one, so
    /// this costs one token per remaining block instead of a new pass over the sequence.
    /// Rows are processed together, so thousands of edits share each weight matrix read.
    ///
    /// - Parameters:
    ///   - start: the residual index the rows' states belong to (they are the input of block `start`).
    ///   - capture: residual indices in `start...blockCount` to return, in this order.
    ///   - afterBlock: optional edit of all rows `[rows][width]` after block `b` (0-based) has run,
    ///     before the state is captured and fed to the next block.
    ///   - afterAttention: optional observer (or edit) of all rows `[rows][width]` inside block `b`,
    ///     after its attention update and before its feed-forward sublayer (the `.residualMid(b)` state).
    /// - Returns: `[row][capture index][width]`.
    public func resume(_ cache: PrefixCache, rows: [ResumeRow], fromResidual start: Int, capture: [Int],
                       afterBlock: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)? = nil,
                       afterAttention: ((_ block: Int, _ rows: UnsafeMutableBufferPointer<Float>) -> Void)? = nil)
        throws -> [Float] {
        let c = configuration
        let d = c.modelWidth
        guard cache.externalHandle == nil, cache.keyValues.count == c.blockCount else {
            throw EngineError.invalidInput("this prefix cache was not made by this engine's prefill")
        }
        guard (0...c.blockCount).contains(start) else {
            throw EngineError.invalidInput("resume residual \(start) outside 0...\(c.blockCount)")
        }
        if let bad = capture.first(where: { !(start...c.blockCount).contains($0) }) {
            throw EngineError.invalidInput("capture index \(bad) outside \(start)...\(c.blockCount)")
        }
        for (i, row) in rows.enumerated() {
            guard (0..<cache.promptCount).contains(row.prompt), row.residual.count == d else {
                throw EngineError.invalidInput("resume row \(i): prompt \(row.prompt) of \(cache.promptCount), width \(row.residual.count) (expected \(d))")
            }
        }
        return PhaseClock.time(.resume, work: rows.count) {
            resumeChunks(cache, rows: rows, start: start, capture: capture, afterBlock: afterBlock, afterAttention: afterAttention)
        }
    }

    private func resumeChunks(_ cache: PrefixCache, rows: [ResumeRow], start: Int, capture: [Int],
                              afterBlock: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)?,
                              afterAttention: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)?) -> [Float] {
        let d = configuration.modelWidth
        var output = [Float](repeating: 0, count: rows.count * capture.count * d)
        let chunk = max(1, maxBatchTokens)
        var first = 0
        while first < rows.count {
            let batch = Array(rows[first ..< min(rows.count, first + chunk)])
            let result = resumeBatch(cache, rows: batch, start: start, capture: capture, afterBlock: afterBlock,
                                     afterAttention: afterAttention)
            output.replaceSubrange((first * capture.count * d) ..< ((first + batch.count) * capture.count * d), with: result)
            first += batch.count
        }
        return output
    }

    private func resumeBatch(_ cache: PrefixCache, rows: [ResumeRow], start: Int, capture: [Int],
                             afterBlock: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)?,
                             afterAttention: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)?) -> [Float] {
        let c = configuration
        let d = c.modelWidth
        let n = rows.count
        let x = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        defer { x.deallocate() }
        for (r, row) in rows.enumerated() {
            row.residual.withUnsafeBufferPointer { (x + r * d).update(from: $0.baseAddress!, count: d) }
        }
        let positions = rows.map { cache.tokenCount(prompt: $0.prompt) - 1 }
        var output = [Float](repeating: 0, count: n * capture.count * d)
        func record(_ index: Int) {
            output.withUnsafeMutableBufferPointer { out in
                for (slot, wanted) in capture.enumerated() where wanted == index {
                    for r in 0..<n {
                        (out.baseAddress! + (r * capture.count + slot) * d).update(from: x + r * d, count: d)
                    }
                }
            }
        }
        record(start)
        let workspace = Workspace(rows: n, configuration: c, scratchElements: weights.scratchElements)
        let longest = (positions.max() ?? 0) + 1
        let tables = RoPETables(configuration: c, positions: longest)
        EngineThreads.run { workers in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: workers * longest)
            defer { scores.deallocate() }
            for b in start..<c.blockCount {
                let layout = c.layouts[b]
                forwardBlock(b, x: x, rows: n, workspace: workspace, positions: positions,
                             rope: tables.table(base: layout.ropeBase), workers: workers,
                             pausesAfterAttention: afterAttention != nil,
                             afterAttention: { afterAttention?(b, UnsafeMutableBufferPointer(start: x, count: n * d)) }) { worker, workers in
                    cache.keyValues[b].withUnsafeBufferPointer { kv in
                        self.attendToPrefix(qkv: workspace.qkv, out: workspace.attention, rows: rows,
                                            share: share(of: n, worker: worker, workers: workers),
                                            positions: positions, cache: cache, keyValues: kv.baseAddress!,
                                            window: layout.window, scores: scores + worker * longest)
                    }
                }
                if let afterBlock {
                    afterBlock(b, UnsafeMutableBufferPointer(start: x, count: n * d))
                }
                record(b + 1)
            }
        }
        return output
    }

    /// Attention of resumed rows `share` (each at its prompt's last position) over the cached
    /// prefix keys/values plus its own freshly computed key/value. `scores` holds `longest` floats.
    private func attendToPrefix(qkv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, rows: [ResumeRow],
                                share: Range<Int>, positions: [Int], cache: PrefixCache,
                                keyValues: UnsafePointer<Float>, window: Int?, scores s: UnsafeMutablePointer<Float>) {
        let c = configuration
        let hd = c.headWidth, qkvw = c.fusedQKVWidth, kvw = c.keyValueWidth
        let group = c.headCount / c.keyValueHeadCount
        for r in share {
            let row = rows[r]
            let position = positions[r]
            let first = window.map { max(0, position - $0 + 1) } ?? 0
            let prefix = keyValues + cache.tokenOffsets[row.prompt] * 2 * kvw
            let own = qkv + r * qkvw
            for h in 0..<c.headCount {
                let g = h / group
                let q = own + h * hd
                for j in first..<position {
                    let key = prefix + j * 2 * kvw + g * hd
                    var dot: Float = 0
                    for i in 0..<hd { dot += q[i] * key[i] }
                    s[j] = dot * c.attentionScale
                }
                let ownKey = own + c.queryWidth + g * hd
                var dot: Float = 0
                for i in 0..<hd { dot += q[i] * ownKey[i] }
                s[position] = dot * c.attentionScale
                if let cap = c.attentionSoftCap { softCap(s + first, count: position + 1 - first, cap: cap) }
                softmax(s + first, count: position + 1 - first)
                let o = out + r * c.queryWidth + h * hd
                for i in 0..<hd { o[i] = 0 }
                for j in first..<position {
                    let value = prefix + j * 2 * kvw + kvw + g * hd
                    let p = s[j]
                    for i in 0..<hd { o[i] += p * value[i] }
                }
                let ownValue = own + c.queryWidth + kvw + g * hd
                let p = s[position]
                for i in 0..<hd { o[i] += p * ownValue[i] }
            }
        }
    }
}
