import Analysis
import Engine
import Evidence

/// SR-1 — the output is flat inside stable regions and jumps at their boundaries; a randomly
/// initialized model is linear (Janiak et al. 2024, *Characterizing stable regions in the
/// residual stream of LLMs*; code `reometry/scripts/interpolate.py`).
///
/// Method (claims spec §3 SR-1): N seeded 10-token Walden windows (rule `.windows`, BOS
/// prepended for models that ask for it) give N − 1 consecutive pairs (A, B) of unrelated
/// prompts. For each pair, the residual after block 1 at the last position of prompt A is
/// overwritten with X(α) = (1−α)·A + α·B (A, B = the two prompts' clean states there) on a
/// uniform grid of S values including both ends, and only that position is re-run against A's
/// cached prefix (``StableRegionProbe``). d(α) = ‖n(h_L)(α) − n(h_L)(0)‖ at the final-norm
/// output; d̂ = d/d(1); sharpness = max_j (d̂_{j+1} − d̂_j)·(S−1) (1 for a straight line).
/// Pairs with d(1) < 1e-6 are dropped. Variants recorded, not gated: the pre-norm h_L and
/// KL(p₀ ‖ p_α) readouts. The mean d̂ curve is recorded with the α index as its "layer".
///
/// Pass: median sharpness ≥ 2.0 and ≥ 1.8 × the random-init median (computed in the same run
/// on the same windows), median d̂(0.25) ≤ 0.2 and d̂(0.75) ≥ 0.85, and the random-init median
/// ≤ 1.3 (the reference must itself be linear). The random-init control runs the same criteria
/// on random weights and must come out refuted: its curves are straight (pilot median 1.07).
///
/// Parameters: `steps` (S, default 21; sharpness grows with S, so freeze it in baselines),
/// `writeResidual` (default 1).
///
/// Intervals: percentile bootstrap over the pairs, the trained model and its random-init
/// reference resampled together (the same pairs of the same windows).
public struct SR1StableRegions: Claim {
    public let id = "SR-1"
    public let title = "The output is flat inside stable regions and jumps at their boundaries; random init is linear"
    public let source = "Janiak et al. 2024, Characterizing stable regions in the residual stream of LLMs (arXiv 2409.17113), code reometry"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("sharpness_median_min", statistic: "sharpness_median", .atLeast, 2.0,
                            "median sharpness over pairs (final-norm readout)"),
        CriterionDefinition("sharpness_ratio_to_ri_min", statistic: "sharpness_ratio_to_ri", .atLeast, 1.8,
                            "median sharpness over the random-init median on the same windows"),
        CriterionDefinition("dhat_quarter_max", statistic: "dhat_median_0.25", .atMost, 0.2, "median d̂ at α = 0.25"),
        CriterionDefinition("dhat_three_quarters_min", statistic: "dhat_median_0.75", .atLeast, 0.85, "median d̂ at α = 0.75"),
        CriterionDefinition("ri_sharpness_median_max", statistic: "ri_sharpness_median", .atMost, 1.3,
                            "random-init median sharpness (the reference must itself be linear)"),
    ]
    public let parameters = [
        ParameterSpec("steps", .int, "interpolation points S, both ends included (default 21)"),
        ParameterSpec("writeResidual", .int, "residual index written (default 1, after the first block)"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .windows, absolute: 6, reason: "medians over pairs and their bootstrap need at least 5 pairs")
    public let uncertainty = """
        Percentile bootstrap over the consecutive pairs; the trained model and its random-init reference are resampled         together (same pairs of the same windows), so the ratio's interval is paired.
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let steps = context.parameters.int("steps", default: 21)
        let write = context.parameters.int("writeResidual", default: 1)
        guard steps >= 3 else {
            throw ClaimError.insufficientData("SR-1 parameter `steps` must be ≥ 3 (both ends plus an interior point), got \(steps)")
        }
        let prompts = try context.sequences(.windows)
        guard prompts.count >= 3 else {
            throw ClaimError.insufficientData("SR-1 needs at least 3 windows (2 pairs), got \(prompts.count); raise sampling.count")
        }
        let sampling = try context.requireSampling(id)
        let pairs = (0 ..< prompts.count - 1).map { ($0, $0 + 1) }
        let alphas = StableRegionProbe.grid(steps)
        // Every readout's curves per model, memoized: the trained run needs random-init's curves
        // for its reference, and the random-init control then reuses them.
        func memoizedCurves(_ name: String, _ model: () throws -> any ResidualModel) throws -> [StableRegionProbe.Readout: [[Double]]] {
            try context.resources.memoized("SR-1/curves/\(name)/\(sampling.corpus)/\(sampling.count)/\(sampling.tokens)/\(context.seed)/S\(steps)/w\(write)") {
                try StableRegionProbe(model: model(), prompts: prompts, writeResidual: write)
                    .curves(pairs: pairs, alphas: alphas, readouts: StableRegionProbe.Readout.allCases)
            }
        }
        let isRandom = context.modelTag == "ri"
        let ownName = isRandom ? RandomInitialization.controlName : "trained"
        let curves = try memoizedCurves(ownName) { try context.model() }

        var metrics: [Metric] = []
        var medians: [StableRegionProbe.Readout: Double] = [:]
        var normedCurves: [[Double]] = []
        for readout in StableRegionProbe.Readout.allCases {
            let summary = StableRegionProbe.summarize(curves[readout] ?? [])
            guard !summary.sharpness.isEmpty else {
                throw ClaimError.insufficientData("SR-1: every pair has d(1) < 1e-6 in the \(readout.rawValue) readout; sample more windows")
            }
            let suffix = readout == .normed ? "" : "_\(readout.rawValue)"
            let median = Statistics.median(summary.sharpness)
            medians[readout] = median
            metrics += [
                Metric("sharpness_median" + suffix, unit: "sharpness", value: median),
                Metric("sharpness_q25" + suffix, unit: "sharpness", value: Statistics.quantile(summary.sharpness, 0.25)),
                Metric("sharpness_q75" + suffix, unit: "sharpness", value: Statistics.quantile(summary.sharpness, 0.75)),
                Metric("pairs_used" + suffix, unit: "pairs", value: Double(summary.sharpness.count)),
            ]
            if readout == .normed { normedCurves = summary.normalized }
        }
        func medianDHat(_ alpha: Double) -> Double {
            Statistics.median(normedCurves.map { StableRegionProbe.value($0, at: alpha) })
        }
        let quarter = medianDHat(0.25), half = medianDHat(0.5), threeQuarters = medianDHat(0.75)
        let bootstrap = context.bootstrap(pairs.count)
        let ownSummary = StableRegionProbe.summarize(curves[.normed] ?? [])
        func byPair(_ value: ([Double]) -> Double) -> [Double] {
            var values = [Double](repeating: .nan, count: pairs.count)
            for (dhat, k) in zip(ownSummary.normalized, ownSummary.kept) { values[k] = value(dhat) }
            return values
        }
        func replicateMedians(_ values: [Double]) -> [Double] {
            bootstrap.indices.map { drawn in Statistics.medianIgnoringNaN(drawn.map { values[$0] }) }
        }
        let quarterByPair = byPair { StableRegionProbe.value($0, at: 0.25) }
        let threeQuartersByPair = byPair { StableRegionProbe.value($0, at: 0.75) }
        metrics += [
            Metric("dhat_median_0.25", unit: "d̂", value: quarter, interval: bootstrap.interval(replicateMedians(quarterByPair), unit: "pairs")),
            Metric("dhat_median_0.5", unit: "d̂", value: half),
            Metric("dhat_median_0.75", unit: "d̂", value: threeQuarters,
                   interval: bootstrap.interval(replicateMedians(threeQuartersByPair), unit: "pairs")),
        ]
        for j in alphas.indices {
            metrics.append(Metric("dhat_mean", layer: j, unit: "d̂ (layer = α index j, α = j/\(steps - 1))",
                                  value: Statistics.mean(normedCurves.map { $0[j] })))
        }

        // The random-init reference on the same windows (the subject's own numbers when it is RI).
        let trainedMedian = medians[.normed]!
        let randomCurves = isRandom ? curves
            : try memoizedCurves(RandomInitialization.controlName) { try context.resources.randomInitModel() }
        let own = StableRegionProbe.PairSharpness(ownSummary, count: pairs.count)
        let random = StableRegionProbe.PairSharpness(StableRegionProbe.summarize(randomCurves[.normed] ?? []), count: pairs.count)
        guard random.pairs > 0 else {
            throw ClaimError.insufficientData("SR-1: every random-init pair has d(1) < 1e-6; sample more windows")
        }
        let randomMedian = random.median
        // Shared with SR-2, which orders the same medians.
        func key(_ model: String) -> String {
            StableRegionProbe.medianKey(model: model, sampling: sampling, seed: context.seed, steps: steps, writeResidual: write)
        }
        _ = try context.resources.memoized(key(ownName)) { own }
        _ = try context.resources.memoized(key(RandomInitialization.controlName)) { random }
        let ratio = trainedMedian / randomMedian
        let ownReplicates = own.replicateMedians(bootstrap), randomReplicates = random.replicateMedians(bootstrap)
        if let index = metrics.firstIndex(where: { $0.key == "sharpness_median" }) {
            metrics[index].interval = bootstrap.interval(ownReplicates, unit: "pairs")
        }
        metrics += [
            Metric("ri_sharpness_median", unit: "sharpness", value: randomMedian, interval: bootstrap.interval(randomReplicates, unit: "pairs")),
            Metric("sharpness_ratio_to_ri", unit: "ratio", value: ratio,
                   interval: bootstrap.interval(zip(ownReplicates, randomReplicates).map { $0 / $1 }, unit: "pairs")),
        ]
        return ClaimOutcome(metrics: metrics, notes: [
            "\(pairs.count) consecutive pairs of \(prompts.count) windows of \(prompts.first?.count ?? 0) tokens; "
                + "S = \(steps); written after residual \(write), read at the final-norm output (gated), pre-norm and KL (recorded)",
            "KL readout median sharpness \(medians[.kl]!), pre-norm \(medians[.prenorm]!)",
        ])
    }
}
