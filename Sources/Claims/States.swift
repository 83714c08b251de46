import Analysis
import Engine

/// Last-position residual states of a set of sequences, in Float64 for statistics.
public struct LastPositionStates: Sendable {
    /// `blocks[l]` is `[samples × width]`: residual index `l` (0 = embedding … L = last block, pre-norm).
    public var residual: [Matrix]
    /// `mid[b]` is the state after block b's attention, before its MLP (empty when not captured).
    public var mid: [Matrix]
    /// The final norm's output, `[samples × width]`.
    public var finalNorm: Matrix
    public var sequences: [[Int]]

    public var sampleCount: Int { sequences.count }
    public var blockCount: Int { residual.count - 1 }

    /// States read from elsewhere (e.g. saved files); the caller checks the shapes agree.
    public init(residual: [Matrix], mid: [Matrix], finalNorm: Matrix, sequences: [[Int]]) {
        self.residual = residual
        self.mid = mid
        self.finalNorm = finalNorm
        self.sequences = sequences
    }
}

extension ClaimContext {
    /// The tokenized sequences of the claim's corpus under its sampling rule, memoized.
    public func sequences(_ rule: SequenceRule) throws -> [[Int]] {
        let sampling = try requireSampling(rule.rawValue)
        return try resources.sequences(try sequenceSetKey(rule)) {
            let text = try resources.corpusText(sampling.corpus)
            let tokenizer = try resources.tokenizer()
            let format = resources.corpusFormat(sampling.corpus)
            switch rule {
            case .paragraphs:
                return try CorpusSampling.paragraphs(text, tokenizer: tokenizer, count: sampling.count, tokens: sampling.tokens, format: format)
            case .chunks:
                return try CorpusSampling.chunks(text, tokenizer: tokenizer, count: sampling.count, tokens: sampling.tokens, format: format)
            case .windows:
                return try CorpusSampling.windows(text, tokenizer: tokenizer, count: sampling.count, tokens: sampling.tokens, seed: seed,
                                                  format: format)
            }
        }
    }

    /// Residual states at the last position of the sampled sequences (every residual index,
    /// the mid-block states and the final norm), for this subject's model; memoized so the
    /// claims sharing a corpus and sampling run the model once.
    public func lastPositionStates(_ rule: SequenceRule) throws -> LastPositionStates {
        let sampling = try requireSampling(rule.rawValue)
        let label = "forward passes, \(sampling.corpus) \(rule.rawValue), \(modelRole == .randomInit ? "random-init" : "trained") model"
        let report = progress.map { report in { @Sendable (done: Int, total: Int) in report(label, done, total) } }
        return try resources.lastPositionStates(try stateSetKey(rule)) {
            let sequences = try self.sequences(rule)
            return try LastPositionStates(capturing: sequences, with: try self.model(), progress: report)
        }
    }
}

extension LastPositionStates {
    /// Runs `model` on `sequences` and keeps the last position's residual at every index, the
    /// mid-block states and the final norm, in Float64.
    init(capturing sequences: [[Int]], with model: any ResidualModel,
         progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws {
        let c = model.configuration
        var hooks = (0...c.blockCount).map(HookPoint.residual)
        hooks += (0..<c.blockCount).map(HookPoint.residualMid)
        hooks.append(.finalNorm)
        let capture = try model.capture(sequences, plan: CapturePlan(hooks: hooks), progress: progress)
        func matrix(_ hook: HookPoint) -> Matrix {
            let h = capture.index(of: hook)!
            var storage = [Double](repeating: 0, count: sequences.count * c.modelWidth)
            for s in sequences.indices {
                let start = (s * hooks.count + h) * c.modelWidth
                for i in 0..<c.modelWidth { storage[s * c.modelWidth + i] = Double(capture.values[start + i]) }
            }
            return Matrix(rows: sequences.count, columns: c.modelWidth, storage: storage)
        }
        self.init(residual: (0...c.blockCount).map { matrix(.residual($0)) },
                  mid: (0..<c.blockCount).map { matrix(.residualMid($0)) },
                  finalNorm: matrix(.finalNorm), sequences: sequences)
    }
}

/// Which of the spec's sampling rules (§0.2) a claim uses.
public enum SequenceRule: String, Sendable, Codable, CaseIterable {
    /// TD's WikiText paragraphs.
    case paragraphs
    /// LoT's non-overlapping chunks.
    case chunks
    /// SR's random windows.
    case windows
}
