extension LanguageModel {
    /// The final RMSNorm applied to `rows` residual vectors `[rows][width]`.
    public func finalNorm(_ residuals: [Float], rows: Int) -> [Float] {
        let d = configuration.modelWidth
        precondition(residuals.count == rows * d, "finalNorm: expected \(rows)×\(d) values")
        var out = [Float](repeating: 0, count: rows * d)
        residuals.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                weights.outputNorm.withUnsafeBufferPointer { w in
                    rmsNorm(x.baseAddress!, o.baseAddress!, rows: rows, width: d, weight: w.baseAddress!,
                            epsilon: configuration.normEpsilon)
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

    /// Logits for vectors that already went through the final norm.
    public func logits(fromNormalized normalized: [Float], rows: Int) -> [Float] {
        let v = configuration.vocabularySize
        precondition(normalized.count == rows * configuration.modelWidth, "logits: expected \(rows)×\(configuration.modelWidth) values")
        var out = [Float](repeating: 0, count: rows * v)
        normalized.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                weights.unembedding.scores(x.baseAddress!, rows: rows, into: o.baseAddress!)
            }
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
