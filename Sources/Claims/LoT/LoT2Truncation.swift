import Analysis
import Profiling
import Engine
import Evidence

/// LoT-2 — truncating the pilot to K singular directions barely changes the output
/// (Sarfati et al., *Lines of Thought in LLMs*, §3.2, Fig. 2c).
///
/// Method (claims spec §2 LoT-2): trajectories are the last token's block outputs h_t,
/// t = 1…L (pre final norm), of N Walden pseudo-sentences (rule `.chunks`). The bases U(t)
/// are the right singular vectors of the **uncentered** per-layer state matrix [N × D],
/// fitted on the full ensemble; U_K(t) keeps the first K (K is clipped to the rank, min(N, D),
/// so with N < D every K ≥ N keeps the whole sample span). p is the next-token distribution
/// of the untouched trajectory, p_K the truncated one; the metric is KL(p_K ‖ p) in nats
/// (zeros → machine epsilon, `Statistics.klDivergence`).
/// - Variant B (cheap): truncate only h_L to U_K(L)U_K(L)ᵀh_L, then final norm + unembedding.
/// - Variant A (paper text): on the first `variantASamples` trajectories, project h_1, then
///   after every later block t replace the last-position h_t by U_K(t)U_K(t)ᵀh_t. The prefix is
///   prefilled once and only the edited last position is resumed (one row per trajectory per K).
/// - Held-out (informational): variant B with bases fitted on the first half of the ensemble
///   and evaluated on the second half.
/// The baseline is KL(p_i ‖ p_{i+1}) between consecutive (unrelated) pseudo-sentences; its
/// median is the scale: ratio = mean KL / median baseline, drop = 1 − ratio, K₁₀ = smallest
/// grid K with ratio ≤ 0.10 (D when no grid value reaches it).
///
/// Pass: variant A ratio at K = 256 ≤ 0.10 and A's ratios strictly decrease in K; variant B
/// K₁₀ ≤ 0.25·D; and the sanity check "baseline median ≥ 2 nats". The random-init control must
/// come out refuted: its *relative* curve looks like the trained one (pilot ratio 0.028 at
/// K = 256), but its outputs barely depend on the input (pilot baseline 0.22 nats), so the
/// baseline criterion fails — there is no output to preserve.
///
/// Parameters: `ks` (variant B grid, default 16/32/64/128/256/384), `variantAKs` (default
/// 16/64/256; the gate K is always added), `variantAGateK` (256), `variantASamples` (200).
///
/// Intervals: percentile bootstrap over the trajectories of their KL divergences (variant A
/// over the drawn trajectories among its first `variantASamples`, the baseline over the
/// consecutive pairs whose first member is drawn), with the bases held at the full ensemble.
public struct LoT2Truncation: Claim {
    public let id = "LoT-2"
    public let title = "Truncating the pilot to K singular directions barely changes the output"
    public let source = "Sarfati et al. 2024/25, Lines of Thought in LLMs (arXiv 2410.01545), §3.2, Fig. 2c"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("A_ratio_gate_max", statistic: "A_ratio_gate", .atMost, 0.10,
                            "variant A: mean KL at the gate K (256) over the median unrelated-pairs KL"),
        CriterionDefinition("A_worst_step_max", statistic: "A_worst_step", .lessThan, 0,
                            "variant A: the largest step of the ratio between consecutive K (must decrease)"),
        CriterionDefinition("B_K10_fraction_max", statistic: "B_K10_fraction", .atMost, 0.25,
                            "variant B: K₁₀ (smallest K with ratio ≤ 0.10) as a fraction of D"),
        CriterionDefinition("baseline_median_min", statistic: "baseline_median_kl", .atLeast, 2,
                            "median KL between consecutive unrelated pseudo-sentences, in nats (outputs depend on the input)"),
    ]
    public let parameters = [
        ParameterSpec("ks", .ints, "variant B grid of K (default 16, 32, 64, 128, 256, 384)"),
        ParameterSpec("variantAKs", .ints, "variant A grid of K (default 16, 64, 256; the gate K is added)"),
        ParameterSpec("variantAGateK", .int, "the K variant A is gated at (default 256)"),
        ParameterSpec("variantASamples", .int, "trajectories variant A runs (default 200)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .chunks, absolute: 4, perWidth: 1.25,
        reason: "the per-layer bases must span ℝ^D with room to spare (claims spec: N ≥ 1.25·D)")
    public let uncertainty = """
        Percentile bootstrap over the trajectories of their KL divergences (variant A over the drawn trajectories among \
        its first variantASamples; the unrelated-pairs baseline over the consecutive pairs whose first member is drawn). \
        The bases stay those of the full ensemble: refitting them would need new forward passes for variant A.
        """

    public init() {}

    /// Rows of logits computed per unembedding call (49,152 floats per row).
    static let logitRowsPerChunk = 128
    /// Prompts prefilled together for variant A (bounds the key/value cache).
    static let prefillGroup = 100

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let sampling = try context.requireSampling(id)
        let states = try context.lastPositionStates(.chunks)
        let model = try context.model()
        let width = states.residual[0].columns
        let blocks = states.blockCount
        let count = states.sampleCount
        guard count >= 4 else { throw ClaimError.insufficientData("LoT-2 needs at least 4 pseudo-sentences, got \(count)") }

        let ks = Array(Set(context.parameters.ints("ks", default: [16, 32, 64, 128, 256, 384]))).sorted()
        let gateK = context.parameters.int("variantAGateK", default: 256)
        let aKs = Array(Set(context.parameters.ints("variantAKs", default: [16, 64, 256]) + [gateK])).sorted()
        let aSamples = min(count, max(1, context.parameters.int("variantASamples", default: 200)))

        let half = count / 2
        let memoBase = "LoT-2/bases/\(context.modelTag)/\(sampling.corpus)/\(count)/\(sampling.tokens)"
        // The same decompositions as the LoT trajectory bases (one SVD per layer and subject for both).
        let spectra = try context.chunkSpectra(claim: id)
        let bases = Dictionary(uniqueKeysWithValues: (1...blocks).map { ($0, spectra[$0 - 1].vt) })
        let heldOutBasis = try context.resources.memoized(memoBase + "/first-half") {
            try Self.fitBases(states, layers: [blocks], samples: 0..<half)
        }[blocks]!

        // Variant B, the held-out variant and the consecutive baseline share one pass over
        // the reference logits.
        let finalBasis = bases[blocks]!
        var klB = [[Double]](repeating: [], count: ks.count)
        var klHeldOut = [[Double]](repeating: [], count: ks.count)
        var baseline: [Double] = []
        var previous: [Float]?
        let vocabulary = model.configuration.vocabularySize
        for start in stride(from: 0, to: count, by: Self.logitRowsPerChunk) {
            let rows = Array(start ..< min(count, start + Self.logitRowsPerChunk))
            let finalStates = states.residual[blocks].rows(at: rows)
            let reference = ReferenceLogits(try model.logits(fromResiduals: Self.floats(finalStates), rows: rows.count), vocabulary: vocabulary)
            // Consecutive pairs (r − 1, r); the first row pairs with the previous chunk's last.
            if let previous {
                baseline.append(previous.withUnsafeBufferPointer { p in
                    reference.divergence(from: p, toRow: 0)
                })
            }
            baseline += reference.logits.withUnsafeBufferPointer { all in
                Parallel.map(rows.count - 1) { r in
                    reference.divergence(from: UnsafeBufferPointer(rebasing: all[r * vocabulary ..< (r + 1) * vocabulary]), toRow: r + 1)
                }
            }
            previous = Array(reference.logits[(rows.count - 1) * vocabulary ..< rows.count * vocabulary])
            let heldOutRows = rows.indices.filter { rows[$0] >= half }
            for (slot, k) in ks.enumerated() {
                let truncated = Self.project(finalStates, onto: Self.leading(k, of: finalBasis))
                klB[slot] += try Self.divergences(model, truncated, reference: reference, referenceRows: Array(rows.indices))
                if !heldOutRows.isEmpty {
                    let truncated = Self.project(finalStates.rows(at: heldOutRows), onto: Self.leading(k, of: heldOutBasis))
                    klHeldOut[slot] += try Self.divergences(model, truncated, reference: reference, referenceRows: heldOutRows)
                }
            }
        }
        let baselineMedian = Statistics.median(baseline)
        let baselineMean = Statistics.mean(baseline)

        // Variant A: the projection after every block, resumed from the prefix cache.
        var klA = [[Double]](repeating: [], count: aKs.count)
        let truncatedBases = aKs.map { k in (1...blocks).map { Self.leading(k, of: bases[$0]!) } }
        for groupStart in stride(from: 0, to: aSamples, by: Self.prefillGroup) {
            let prompts = Array(states.sequences[groupStart ..< min(aSamples, groupStart + Self.prefillGroup)])
            let (capture, cache) = try model.prefill(prompts, plan: CapturePlan(hooks: [.residual(1), .residual(blocks)]))
            let first = Self.matrix(capture, hook: .residual(1), prompts: prompts.count, width: width)
            let last = Self.matrix(capture, hook: .residual(blocks), prompts: prompts.count, width: width)
            let reference = ReferenceLogits(try model.logits(fromResiduals: Self.floats(last), rows: prompts.count), vocabulary: vocabulary)
            for (slot, perLayer) in truncatedBases.enumerated() {
                let projected = Self.project(first, onto: perLayer[0])
                let rows = prompts.indices.map { ResumeRow(prompt: $0, residual: projected.row($0).map(Float.init)) }
                let output = try model.resume(cache, rows: rows, fromResidual: 1, capture: [blocks]) { block, buffer in
                    // Block `block` (0-based) produced residual index block + 1 = layer t.
                    Self.projectInPlace(buffer, rows: prompts.count, width: width, onto: perLayer[block])
                }
                let truncated = Matrix(rows: prompts.count, columns: width, float32: output)
                klA[slot] += try Self.divergences(model, truncated, reference: reference, referenceRows: Array(prompts.indices))
            }
        }

        // Bootstrap replicates over the trajectories: KL means per K and the baseline median.
        let bootstrap = context.bootstrap(count)
        let replicateBaseline = bootstrap.indices.map { drawn in
            Statistics.medianIgnoringNaN(drawn.filter { $0 < baseline.count }.map { baseline[$0] })
        }
        func interval(_ values: [Double]) -> Interval { bootstrap.interval(values, unit: "trajectories") }

        var metrics = [
            Metric("baseline_median_kl", unit: "nats", value: baselineMedian, interval: interval(replicateBaseline)),
            Metric("baseline_mean_kl", unit: "nats", value: baselineMean),
        ]
        func curve(_ prefix: String, _ grid: [Int], _ divergences: [[Double]], indices: [Int]? = nil) -> (ratios: [Double], replicates: [[Double]]) {
            var ratios: [Double] = [], replicates: [[Double]] = []
            for (slot, k) in grid.enumerated() {
                let mean = Statistics.mean(divergences[slot])
                let ratio = mean / baselineMedian
                ratios.append(ratio)
                // Replicate ratios: the divergences are indexed by trajectory (held-out ones by `indices`).
                var byTrajectory = [Double](repeating: .nan, count: count)
                for (i, value) in divergences[slot].enumerated() { byTrajectory[indices?[i] ?? i] = value }
                let means = PhaseClock.time(.resampling) {
                    bootstrap.indices.map { drawn -> Double in
                        let picked = drawn.map { byTrajectory[$0] }.filter { !$0.isNaN }
                        return picked.isEmpty ? .nan : picked.reduce(0, +) / Double(picked.count)
                    }
                }
                let replicateRatios = zip(means, replicateBaseline).map { $0 / $1 }
                replicates.append(replicateRatios)
                metrics += [
                    Metric("\(prefix)_mean_kl", layer: k, unit: "nats", value: mean),
                    Metric("\(prefix)_median_kl", layer: k, unit: "nats", value: Statistics.median(divergences[slot])),
                    Metric("\(prefix)_ratio", layer: k, unit: "ratio", value: ratio, interval: interval(replicateRatios)),
                    Metric("\(prefix)_drop", layer: k, unit: "fraction", value: 1 - ratio),
                ]
            }
            return (ratios, replicates)
        }
        let curveB = curve("B", ks, klB), curveA = curve("A", aKs, klA)
        let curveHeldOut = curve("heldout_B", ks, klHeldOut, indices: Array(half..<count))
        func k10(_ ratios: [Double]) -> Int { zip(ks, ratios).first { $0.1 <= 0.10 }?.0 ?? width }
        func worst(_ ratios: [Double]) -> Double { zip(ratios.dropFirst(), ratios).map { $0 - $1 }.max() ?? -1 }
        let k10B = k10(curveB.ratios)
        let k10HeldOut = k10(curveHeldOut.ratios)
        let gateSlot = aKs.firstIndex(of: gateK)!
        let ratioAtGate = curveA.ratios[gateSlot]
        let worstStep = worst(curveA.ratios)
        let replicateK10 = bootstrap.indices.indices.map { r in Double(k10(curveB.replicates.map { $0[r] })) / Double(width) }
        let replicateWorst = bootstrap.indices.indices.map { r in worst(curveA.replicates.map { $0[r] }) }
        metrics += [
            Metric("B_K10", unit: "dimensions", value: Double(k10B)),
            Metric("B_K10_fraction", unit: "fraction of D", value: Double(k10B) / Double(width), interval: interval(replicateK10)),
            Metric("heldout_B_K10", unit: "dimensions", value: Double(k10HeldOut)),
            Metric("A_ratio_gate", unit: "ratio", value: ratioAtGate, interval: interval(curveA.replicates[gateSlot])),
            Metric("A_worst_step", unit: "ratio", value: worstStep, interval: interval(replicateWorst)),
        ]
        var notes = ["bases: uncentered SVD of \(count) trajectories; rank \(finalBasis.rows) (K above it keeps the whole span)",
                     "variant A on the first \(aSamples) trajectories; held-out bases fitted on the first \(half), evaluated on the other \(count - half)"]
        if let clipped = (ks + aKs).filter({ $0 > finalBasis.rows }).min() {
            notes.append("K ≥ \(clipped) exceeds the basis rank \(finalBasis.rows): N < D, so such K are in-sample reconstructions")
        }
        return ClaimOutcome(metrics: metrics, notes: notes)
    }

    /// Per layer, the right singular vectors (rows, by decreasing σ) of the uncentered states of `samples`.
    static func fitBases(_ states: LastPositionStates, layers: [Int], samples: Range<Int>) throws -> [Int: Matrix] {
        var bases: [Int: Matrix] = [:]
        for t in layers {
            bases[t] = try states.residual[t].rows(at: samples).singularValueDecomposition().vt
        }
        return bases
    }

    /// The first `k` directions (rows) of a basis, clipped to its rank.
    static func leading(_ k: Int, of basis: Matrix) -> Matrix {
        basis.rows(at: 0 ..< min(k, basis.rows))
    }

    /// Rows of `x` projected onto the span of the orthonormal rows of `directions`.
    static func project(_ x: Matrix, onto directions: Matrix) -> Matrix {
        Matrix.product(Matrix.product(x, directions, transposeRight: true), directions)
    }

    /// The same projection applied in place to engine rows `[rows][width]`.
    static func projectInPlace(_ buffer: UnsafeMutableBufferPointer<Float>, rows: Int, width: Int, onto directions: Matrix) {
        let x = Matrix(rows: rows, columns: width, float32: UnsafeBufferPointer(buffer))
        let projected = project(x, onto: directions)
        for i in 0 ..< rows * width { buffer[i] = Float(projected.storage[i]) }
    }

    /// KL(p_K ‖ p) for each row of `truncated` against `reference` rows `referenceRows` (same order).
    static func divergences(_ model: any ResidualModel, _ truncated: Matrix, reference: ReferenceLogits, referenceRows: [Int]) throws -> [Double] {
        let vocabulary = reference.vocabulary
        let logits = try model.logits(fromResiduals: floats(truncated), rows: truncated.rows)
        return logits.withUnsafeBufferPointer { p in
            Parallel.map(referenceRows.count) { r in
                reference.divergence(from: UnsafeBufferPointer(rebasing: p[r * vocabulary ..< (r + 1) * vocabulary]), toRow: referenceRows[r])
            }
        }
    }

    /// Rows of untouched logits, each the q of many KL(p ‖ q): its normalizer is computed once, not
    /// once per K and variant (the same bits as ``Statistics/klDivergence(logitsP:logitsQ:)``).
    struct ReferenceLogits: Sendable {
        let logits: [Float]
        let vocabulary: Int
        let normalizers: [Double]

        init(_ logits: [Float], vocabulary: Int) {
            self.logits = logits
            self.vocabulary = vocabulary
            normalizers = logits.withUnsafeBufferPointer { all in
                Parallel.map(logits.count / vocabulary) { r in
                    Statistics.logSumExp(UnsafeBufferPointer(rebasing: all[r * vocabulary ..< (r + 1) * vocabulary]))
                }
            }
        }

        /// KL(p ‖ q_row) for logits `p`.
        func divergence(from p: UnsafeBufferPointer<Float>, toRow row: Int) -> Double {
            logits.withUnsafeBufferPointer { all in
                Statistics.klDivergence(logitsP: p, logitsQ: UnsafeBufferPointer(rebasing: all[row * vocabulary ..< (row + 1) * vocabulary]),
                                        normalizerQ: normalizers[row])
            }
        }
    }

    static func floats(_ x: Matrix) -> [Float] { x.storage.map(Float.init) }

    /// One captured hook as a `[prompts × width]` matrix (last-position capture).
    static func matrix(_ capture: ActivationCapture, hook: HookPoint, prompts: Int, width: Int) -> Matrix {
        Matrix(rows: prompts, columns: width, float32: (0..<prompts).flatMap { capture.vector(prompt: $0, hook: hook) })
    }
}
