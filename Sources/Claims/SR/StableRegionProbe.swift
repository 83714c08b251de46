import Analysis
import Engine
import Foundation

/// The interpolation machinery shared by the stable-region checks (SR-1, SR-2, SR-3, the 2-D
/// slice and the gate-sign flips; Janiak et al. 2024, code `reometry`).
///
/// F_p(X): the residual after block `writeResidual` (the spec's "after the first block", index 1)
/// at the last position of prompt p is overwritten with X and only that position is re-run
/// through the remaining blocks, attending to p's cached prefix. Every prompt is prefilled once;
/// each interpolation point then costs one token per remaining block.
struct StableRegionProbe {
    /// How the edited last position is read at the end of the model.
    enum Readout: String, CaseIterable, Sendable {
        /// n(h_L), the final-norm output: the paper's readout (HF `hidden_states[L]`).
        case normed
        /// h_L before the final norm.
        case prenorm
        /// KL(p₀ ‖ p_α) of the next-token distributions instead of a distance.
        case kl
    }

    /// The spec's rule for dropping a pair: its endpoint distance d(1) is below this.
    static let minimumEndpointDistance = 1e-6

    let model: any ResidualModel
    let writeResidual: Int
    let cache: PrefixCache
    /// Clean states at the write point, one per prompt (the anchors A, B, … of the paper).
    let anchors: [[Float]]
    /// Clean final-norm outputs at the last position, `[prompt][width]`.
    let cleanNormed: [[Float]]

    init(model: any ResidualModel, prompts: [[Int]], writeResidual: Int = 1) throws {
        let blocks = model.configuration.blockCount
        guard (0..<blocks).contains(writeResidual) else {
            throw ClaimError.insufficientData("write residual \(writeResidual) is outside 0..<\(blocks) for this model")
        }
        guard prompts.count >= 2 else {
            throw ClaimError.insufficientData("the stable-region probe needs at least 2 prompts, got \(prompts.count)")
        }
        let (capture, cache) = try model.prefill(prompts, plan: CapturePlan(hooks: [.residual(writeResidual), .finalNorm]))
        self.model = model
        self.writeResidual = writeResidual
        self.cache = cache
        anchors = prompts.indices.map { Array(capture.vector(prompt: $0, hook: .residual(writeResidual))) }
        cleanNormed = prompts.indices.map { Array(capture.vector(prompt: $0, hook: .finalNorm)) }
    }

    /// S uniform values from 0 to 1, both ends included.
    static func grid(_ steps: Int) -> [Double] {
        (0..<steps).map { Double($0) / Double(steps - 1) }
    }

    /// Pre-norm final states and their final-norm outputs for edited rows, `[row][width]` each.
    func run(_ rows: [ResumeRow]) throws -> (prenorm: [Float], normed: [Float]) {
        let prenorm = try model.resume(cache, rows: rows, fromResidual: writeResidual,
                                       capture: [model.configuration.blockCount])
        return (prenorm, try model.finalNorm(prenorm, rows: rows.count))
    }

    /// The sign pattern (pre-activation > 0) of the last block's gate projection for edited rows.
    func lastGateSigns(_ rows: [ResumeRow]) throws -> [[Bool]] {
        let last = model.configuration.blockCount - 1, d = model.configuration.modelWidth
        var mid = [Float](repeating: 0, count: rows.count * d)
        // The resumed rows arrive in chunks of the engine's batch bound; `offset` tracks the chunk.
        var offset = 0
        _ = try model.resume(cache, rows: rows, fromResidual: writeResidual, capture: [],
                             afterAttention: { block, states in
            guard block == last else { return }
            mid.replaceSubrange(offset ..< offset + states.count, with: states)
            offset += states.count
        })
        let ff = model.configuration.feedForwardWidth
        let gate = try model.feedForwardGate(block: last, residualMid: mid, rows: rows.count)
        return (0..<rows.count).map { r in gate[r * ff ..< (r + 1) * ff].map { $0 > 0 } }
    }

    /// X(α) = (1−α)·A + α·B for the anchors of prompts `a` and `b`.
    func interpolated(_ a: Int, _ b: Int, _ alpha: Double) -> [Float] {
        zip(anchors[a], anchors[b]).map { Float((1 - alpha) * Double($0) + alpha * Double($1)) }
    }

    /// d(α) for each pair (a, b) along X(α), run in prompt a's context: the distance of each
    /// readout from the α = 0 point (resumed through the same path), or KL(p₀ ‖ p_α).
    /// Returns, per requested readout, one curve per pair.
    func curves(pairs: [(Int, Int)], alphas: [Double], readouts: [Readout]) throws -> [Readout: [[Double]]] {
        var result: [Readout: [[Double]]] = [:]
        let d = model.configuration.modelWidth, s = alphas.count
        let vocabulary = model.configuration.vocabularySize
        // Chunks of pairs bound the logits buffer of the KL readout (rows × vocabulary floats).
        let pairsPerChunk = 24
        var first = 0
        while first < pairs.count {
            let chunk = Array(pairs[first ..< min(pairs.count, first + pairsPerChunk)])
            let rows = chunk.flatMap { a, b in alphas.map { ResumeRow(prompt: a, residual: interpolated(a, b, $0)) } }
            let (prenorm, normed) = try run(rows)
            let logits = readouts.contains(.kl) ? try model.logits(fromNormalized: normed, rows: rows.count) : []
            for p in chunk.indices {
                func distances(_ states: [Float]) -> [Double] {
                    let origin = p * s * d
                    return (0..<s).map { j in
                        let row = origin + j * d
                        var sum = 0.0
                        for i in 0..<d {
                            let difference = Double(states[row + i]) - Double(states[origin + i])
                            sum += difference * difference
                        }
                        return sum.squareRoot()
                    }
                }
                for readout in readouts {
                    switch readout {
                    case .normed: result[readout, default: []].append(distances(normed))
                    case .prenorm: result[readout, default: []].append(distances(prenorm))
                    case .kl:
                        let base = p * s * vocabulary
                        result[readout, default: []].append(Self.klDivergences(
                            reference: logits[base ..< base + vocabulary],
                            rows: (0..<s).map { j in logits[base + j * vocabulary ..< base + (j + 1) * vocabulary] }))
                    }
                }
            }
            first += chunk.count
        }
        return result
    }

    /// KL(p₀ ‖ q_j) of one reference row of logits against each row, with exactly the arithmetic of
    /// `Statistics.klDivergence(logitsP:logitsQ:)` (same bits), but p₀'s softmax computed once
    /// instead of once per row: the KL readout costs one exponential per vocabulary entry and row.
    static func klDivergences(reference: ArraySlice<Float>, rows: [ArraySlice<Float>]) -> [Double] {
        let epsilon = Double.ulpOfOne, logEpsilon = log(Double.ulpOfOne)
        let p = Statistics.logSoftmax(reference.map(Double.init)).map { lp -> (p: Double, lp: Double) in
            let probability = exp(lp)
            return probability == 0 ? (epsilon, logEpsilon) : (probability, lp)
        }
        return rows.map { row in
            let logQ = Statistics.logSoftmax(row.map(Double.init))
            var kl = 0.0
            for i in logQ.indices {
                // exp underflows to 0 only far below −700; test it only there.
                let lq = logQ[i] < -700 && exp(logQ[i]) == 0 ? logEpsilon : logQ[i]
                kl += p[i].p * (p[i].lp - lq)
            }
            return kl
        }
    }

    /// d̂ = d/d(1), or nil when d(1) is below ``minimumEndpointDistance`` (the pair is dropped).
    static func normalized(_ curve: [Double]) -> [Double]? {
        guard let end = curve.last, end >= minimumEndpointDistance else { return nil }
        return curve.map { $0 / end }
    }

    /// The steepest finite-difference slope of d̂: max_j (d̂_{j+1} − d̂_j)·(S−1). A straight line gives 1.
    static func sharpness(_ normalized: [Double]) -> Double {
        let steps = Double(normalized.count - 1)
        return zip(normalized.dropFirst(), normalized).map { ($0 - $1) * steps }.max() ?? .nan
    }

    /// d̂ at `alpha` on a uniform grid over [0, 1], linearly interpolated between grid points.
    static func value(_ normalized: [Double], at alpha: Double) -> Double {
        let h = alpha * Double(normalized.count - 1)
        let lower = min(Int(h.rounded(.down)), normalized.count - 2)
        let t = h - Double(lower)
        return (1 - t) * normalized[lower] + t * normalized[lower + 1]
    }

    /// Sharpness of every pair whose endpoint distance is usable, with the normalized curves kept.
    static func summarize(_ curves: [[Double]]) -> (sharpness: [Double], normalized: [[Double]], kept: [Int]) {
        var sharpness: [Double] = [], kept: [[Double]] = [], indices: [Int] = []
        for (k, curve) in curves.enumerated() {
            guard let dhat = normalized(curve) else { continue }
            sharpness.append(self.sharpness(dhat))
            kept.append(dhat)
            indices.append(k)
        }
        return (sharpness, kept, indices)
    }

    /// The memo key of ``medianSharpness(model:prompts:steps:writeResidual:)`` for a named model
    /// (`trained`, `random-init` or a file), so SR-1 and SR-2 compute each median once per run.
    static func medianKey(model: String, sampling: Sampling, seed: UInt64, steps: Int, writeResidual: Int = 1) -> String {
        "SR/median/\(model)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(seed)/S\(steps)/w\(writeResidual)"
    }

    /// The sharpness of each consecutive pair (0,1), (1,2), … of a model's windows, NaN where the
    /// pair was dropped (d(1) < 1e-6): indexed by pair, so a bootstrap can resample pairs.
    struct PairSharpness: Sendable {
        var byPair: [Double]
        var kept: [Double] { byPair.filter { !$0.isNaN } }
        var median: Double { Statistics.median(kept) }
        var pairs: Int { kept.count }

        init(byPair: [Double]) { self.byPair = byPair }

        /// From a summary over `count` pairs (``StableRegionProbe/summarize(_:)``).
        init(_ summary: (sharpness: [Double], normalized: [[Double]], kept: [Int]), count: Int) {
            var byPair = [Double](repeating: .nan, count: count)
            for (value, k) in zip(summary.sharpness, summary.kept) { byPair[k] = value }
            self.byPair = byPair
        }

        /// The median over the kept pairs among each bootstrap replicate's drawn pairs.
        func replicateMedians(_ bootstrap: Bootstrap) -> [Double] {
            bootstrap.indices.map { drawn in Statistics.medianIgnoringNaN(drawn.map { byPair[$0] }) }
        }
    }

    /// The per-pair sharpness of consecutive pairs (0,1), (1,2), … of `prompts` on `model`: SR-1's
    /// headline numbers, also SR-1's in-run random-init reference and SR-2's per-model values.
    static func pairSharpness(model: any ResidualModel, prompts: [[Int]], steps: Int,
                              writeResidual: Int = 1) throws -> PairSharpness {
        let probe = try StableRegionProbe(model: model, prompts: prompts, writeResidual: writeResidual)
        let pairs = (0 ..< prompts.count - 1).map { ($0, $0 + 1) }
        let curves = try probe.curves(pairs: pairs, alphas: grid(steps), readouts: [.normed])
        let result = PairSharpness(summarize(curves[.normed] ?? []), count: pairs.count)
        guard result.pairs > 0 else {
            throw ClaimError.insufficientData("every pair has d(1) < \(minimumEndpointDistance); sample more windows")
        }
        return result
    }
}
