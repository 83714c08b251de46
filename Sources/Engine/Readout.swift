import Profiling
extension LanguageModel {
    /// The final norm (the family's RMSNorm or LayerNorm) applied to `rows` residual vectors `[rows][width]`.
    public func finalNorm(_ residuals: [Float], rows: Int) -> [Float] {
        let d = configuration.modelWidth
        precondition(residuals.count == rows * d, "finalNorm: expected \(rows)×\(d) values")
        var out = [Float](repeating: 0, count: rows * d)
        PhaseClock.time(.readout) {
            residuals.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    applyNorm(configuration.family.norm, weights.outputNorm, x.baseAddress!, o.baseAddress!, rows: rows,
                              width: d, epsilon: configuration.normEpsilon)
                }
            }
        }
        return out
    }

    /// Logits `[rows][vocabulary]` for residual vectors (pre-final-norm states): final norm,
    /// then the unembedding. Computed only for the rows given.
    public func logits(fromResiduals residuals: [Float], rows: Int) -> [Float] {
        logits(fromNormalized: finalNorm(residuals, rows: rows), rows: rows)
    }

    /// Logits for vectors that already went through the final norm (soft-capped when the family caps them).
    public func logits(fromNormalized normalized: [Float], rows: Int) -> [Float] {
        let v = configuration.vocabularySize
        precondition(normalized.count == rows * configuration.modelWidth, "logits: expected \(rows)×\(configuration.modelWidth) values")
        var out = [Float](repeating: 0, count: rows * v)
        PhaseClock.time(.readout, work: rows) {
            normalized.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    weights.unembedding.scores(x.baseAddress!, rows: rows, into: o.baseAddress!)
                    if let cap = configuration.finalSoftCap { softCap(o.baseAddress!, count: rows * v, cap: cap) }
                }
            }
        }
        return out
    }

    /// The gate projection's pre-activations `[rows][feedForwardWidth]` of block `block` (0-based)
    /// for mid-block residual states `[rows][width]` (the `.residualMid(block)` state: the
    /// feed-forward norm, then the gate half of the fused gate|up matrix, or the up projection of
    /// a plain feed-forward, with its bias; no activation).
    public func feedForwardGate(block: Int, residualMid residuals: [Float], rows: Int) -> [Float] {
        let c = configuration
        let d = c.modelWidth, ff = c.feedForwardWidth
        precondition((0..<c.blockCount).contains(block), "feedForwardGate: block \(block) outside 0..<\(c.blockCount)")
        precondition(residuals.count == rows * d, "feedForwardGate: expected \(rows)×\(d) values")
        var normed = [Float](repeating: 0, count: rows * d)
        var out = [Float](repeating: 0, count: rows * ff)
        let weights = self.weights.blocks[block]
        residuals.withUnsafeBufferPointer { x in
            normed.withUnsafeMutableBufferPointer { n in
                applyNorm(c.family.norm, weights.feedForwardNorm, x.baseAddress!, n.baseAddress!, rows: rows, width: d,
                          epsilon: c.normEpsilon)
            }
        }
        func multiply(_ gate: UnsafePointer<Float>) {
            normed.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    gemmTransposedB(m: rows, n: ff, k: d, a: x.baseAddress!, lda: d, b: gate, ldb: d,
                                    c: o.baseAddress!, ldc: ff)
                }
            }
        }
        // The gate rows come first in the fused [gate | up] matrix; of a quantized one only they are dequantized.
        if let dense = weights.gateUp.densePointer {
            multiply(dense)
        } else {
            let gate = UnsafeMutablePointer<Float>.allocate(capacity: ff * d)
            defer { gate.deallocate() }
            weights.gateUp.dequantize(rows: 0 ..< ff, into: gate)
            multiply(gate)
        }
        if !weights.gateUpBias.isEmpty {
            weights.gateUpBias.withUnsafeBufferPointer { addRowBias(&out, rows: rows, width: ff, bias: $0.baseAddress!) }
        }
        return out
    }

    /// Greedy continuation of `prompt` by `count` tokens (a sanity check, not fast).
    public func generateGreedy(_ prompt: [Int], count: Int, stopAt stop: Int? = nil) throws -> [Int] {
        var tokens = prompt
        for _ in 0..<count {
            let capture = try self.capture([tokens], plan: CapturePlan(hooks: [.finalNorm]))
            let logits = logits(fromNormalized: Array(capture.values), rows: 1)
            let next = logits.indices.max(by: { logits[$0] < logits[$1] })!
            tokens.append(next)
            if next == stop { break }
        }
        return Array(tokens[prompt.count...])
    }
}
