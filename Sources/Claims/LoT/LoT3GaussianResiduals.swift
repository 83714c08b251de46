import Analysis
import Evidence
import Foundation

/// LoT-3 — a linear rotate-and-stretch model plus Gaussian noise extrapolates x(t) to x(t+τ)
/// (Sarfati et al., *Lines of Thought in LLMs*, Eq. 1–2, Figs. 3–4, A4–A10).
///
/// Method (claims spec §2 LoT-3, Computation steps 1–5), on the LoT-1 trajectories
/// (Walden chunks, last token, h_1…h_L pre-norm, uncentered SVD per layer, N ≥ D):
/// 1. Align bases: ψ(1) = U(1); each column of ψ(t−1), in order, takes the unused column of
///    U(t) with the largest |⟨·,·⟩|, σ(t) is permuted the same way, and the sign is flipped so
///    ⟨ψ_i(t−1), ψ_i(t)⟩ ≥ 0 (``TrajectoryBases``).
/// 2. For every pair t < t₂ (τ = t₂ − t): X̃ = ψ(t₂)·diag(σ(t₂)/σ(t))·ψ(t)ᵀ·X(t), δ = X(t₂) − X̃.
/// 3. Per Cartesian coordinate i over the N trajectories: μ_i, σ_i² (divisor N−1) and the excess
///    kurtosis κ_i = m₄/m₂² − 3 (population moments, as MATLAB's `kurtosis` − 3).
/// 4. A1 = mean_i |μ_i|/σ_i; A2 = ln(mean_i σ_i²), with mean_i ln σ_i² recorded alongside;
///    A3 = mean_i |κ_i|. **Every logarithm is natural**, so λ is in nats per layer.
/// 5. Fits A2 = ln α + λ·(t+τ) over the interior pairs (t ≥ 2, t₂ ≤ L−1) and over all pairs,
///    with R²; and A2 = c₀ + c₁·(t+τ) + c₂·t over all pairs, which tests that the noise
///    variance depends on t+τ alone.
///
/// Metrics: `A2_tau<τ>` at layer t for every pair; `A1_tau1`, `A2_mean_log_tau1`, `A3_tau1`
/// at layer t; the fit coefficients and the scalars the criteria read. For the report only:
/// `qq_t<t>` and `qq_gaussian` (``quantileMetrics(_:)``).
///
/// Pass: A1 ≤ 0.1 for every τ = 1 pair with t ≥ 3; interior fit R² ≥ 0.8 and λ in [0.1, 0.4];
/// |c₂| ≤ 0.3·c₁; the mean A3 of the τ = 1 pairs in the middle third ≤ 0.6 (a step t → t+1
/// belongs to the third of t + ½, §0.7: t = 10…19 for L = 30).
/// Optional per the spec and not applied: the 10×MAD outlier-trajectory filter.
/// Control `random-init` must come out refuted through the fit (λ < 0.1 or R² < 0.8: its
/// residual variance grows like a logarithm, not exponentially). Kurtosis does not separate
/// the two (a Llama-style random init gives near-Gaussian residuals), so A3 is not what rejects it.
public struct LoT3GaussianResiduals: Claim {
    public let id = "LoT-3"
    public let title = "A linear rotate-and-stretch model plus Gaussian noise extrapolates trajectories"
    public let source = "Sarfati, Liu, Boullé & Earls 2025, Lines of Thought in LLMs (arXiv 2410.01545), Eq. 1–2, Figs. 3–4, A4–A10"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("A1_max_tau1_late_max", statistic: "A1_max_tau1_late", .atMost, 0.1,
                            "largest A1 = mean |μ_i|/σ_i over the τ = 1 pairs with t ≥ 3"),
        CriterionDefinition("r2_interior_min", statistic: "r2_interior", .atLeast, 0.8, "R² of the interior fit A2 = ln α + λ·(t+τ)"),
        CriterionDefinition("lambda_interior_min", statistic: "lambda_interior", .atLeast, 0.1, "interior-fit λ, nats per layer"),
        CriterionDefinition("lambda_interior_max", statistic: "lambda_interior", .atMost, 0.4, "interior-fit λ, nats per layer"),
        CriterionDefinition("abs_c2_over_c1_max", statistic: "abs_c2_over_c1", .atMost, 0.3,
                            "|c₂|/c₁ of A2 = c₀ + c₁(t+τ) + c₂t (∞ when c₁ ≤ 0): the variance depends on t+τ alone"),
        CriterionDefinition("A3_middle_third_max", statistic: "A3_middle_third", .atMost, 0.6,
                            "mean |excess kurtosis| A3 of the τ = 1 steps in the middle third"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .chunks, absolute: 4, perWidth: 1.25,
        reason: "each layer's basis must span ℝ^D with room to spare (claims spec §2: N ≥ 1.25·D)")
    public let uncertainty = """
        Delete-a-group jackknife over the trajectories (the suite's groups, default 10): bases, alignment, residual \
        moments and fits are refitted without each group; a Student-t interval around the full-sample estimate. In the \
        replicates A2 is computed in the aligned basis of t₂ (the same total variance, one GEMM per layer).
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let bases = try context.trajectoryBases(claim: id)
        let layers = bases.layerCount
        guard layers >= 4 else {
            throw ClaimError.insufficientData("\(id) fits interior pairs (t ≥ 2, t₂ ≤ L−1); the model has only \(layers) blocks")
        }
        let pairs = try context.trajectoryResiduals(claim: id).pairs

        var metrics: [Metric] = []
        for pair in pairs {
            metrics.append(Metric("A2_tau\(pair.tau)", layer: pair.t, unit: "ln variance", value: pair.a2))
            if pair.tau == 1 {
                metrics.append(Metric("A1_tau1", layer: pair.t, unit: "|mean|/sd", value: pair.a1))
                metrics.append(Metric("A2_mean_log_tau1", layer: pair.t, unit: "ln variance", value: pair.a2MeanLog))
                metrics.append(Metric("A3_tau1", layer: pair.t, unit: "|excess kurtosis|", value: pair.a3))
            }
        }

        let interiorFit = try TrajectoryResiduals.interiorFit(pairs, layers: layers)
        let allFit = try LinearFit(x: pairs.map { Double($0.t2) }, y: pairs.map(\.a2))
        let separation = try LinearFit(
            predictors: Matrix(pairs.map { [Double($0.t2), Double($0.t)] }), response: pairs.map(\.a2))
        let lambda = interiorFit.slopes[0]
        let c1 = separation.slopes[0], c2 = separation.slopes[1]

        let thirds = try DepthThirds(layers: layers)
        struct Summary { var a1Late, lambda, r2, c2OverC1, a3Middle: Double }
        func summary(_ pairs: [TrajectoryResiduals.PairAggregates]) throws -> Summary {
            let fit = try TrajectoryResiduals.interiorFit(pairs, layers: layers)
            let separation = try LinearFit(predictors: Matrix(pairs.map { [Double($0.t2), Double($0.t)] }), response: pairs.map(\.a2))
            let steps = pairs.filter { $0.tau == 1 }
            let c1 = separation.slopes[0], c2 = separation.slopes[1]
            return Summary(a1Late: steps.filter { $0.t >= 3 }.map(\.a1).max() ?? .nan, lambda: fit.slopes[0], r2: fit.rSquared,
                           c2OverC1: c1 > 0 ? abs(c2) / c1 : .infinity,
                           a3Middle: Statistics.mean(steps.filter { thirds.third(ofTransitionFrom: $0.t) == .middle }.map(\.a3)))
        }
        let point = try summary(pairs)
        let (jackknife, replicates) = try context.trajectoryJackknife(claim: id)
        let replicateSummaries = try replicates.map { try summary($0.pairs) }
        func interval(_ value: (Summary) -> Double) -> Interval {
            jackknife.interval(estimate: value(point), replicateValues: replicateSummaries.map(value), unit: "trajectories")
        }
        let a1Late = point.a1Late
        let a3Middle = point.a3Middle
        metrics += [
            Metric("lambda_interior", unit: "nats/layer", value: lambda, interval: interval(\.lambda)),
            Metric("log_alpha_interior", unit: "nats", value: interiorFit.intercept),
            Metric("r2_interior", unit: "R²", value: interiorFit.rSquared, interval: interval(\.r2)),
            Metric("lambda_all", unit: "nats/layer", value: allFit.slopes[0]),
            Metric("log_alpha_all", unit: "nats", value: allFit.intercept),
            Metric("r2_all", unit: "R²", value: allFit.rSquared),
            Metric("c0", unit: "nats", value: separation.intercept),
            Metric("c1", unit: "nats/layer", value: c1),
            Metric("c2", unit: "nats/layer", value: c2),
            Metric("abs_c2_over_c1", unit: "ratio", value: point.c2OverC1, interval: interval(\.c2OverC1)),
            Metric("r2_separation", unit: "R²", value: separation.rSquared),
            Metric("A1_max_tau1_late", unit: "|mean|/sd", value: a1Late, interval: interval(\.a1Late)),
            Metric("A1_max", unit: "|mean|/sd", value: pairs.map(\.a1).max() ?? .nan),
            Metric("A3_middle_third", unit: "|excess kurtosis|", value: a3Middle, interval: interval(\.a3Middle)),
            Metric("pairs", unit: "count", value: Double(pairs.count)),
        ] + thirds.metrics

        metrics += Self.quantileMetrics(bases)

        return ClaimOutcome(metrics: metrics, notes: [
            "N = \(bases.sampleCount) trajectories, D = \(bases.width), \(pairs.count) pairs; natural logarithms",
            "no outlier filter applied (the spec's optional 10×MAD norm filter is not used)",
            "thirds of the depth: layers \(thirds.summary); jackknife over \(jackknife.groups.count) groups of trajectories",
        ])
    }

    /// The probabilities of the recorded residual quantiles; a `qq_*` metric's layer indexes this list.
    public static let quantileProbabilities = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                               0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999]

    /// The τ = 1 pairs (t, t+1) whose residual distribution the report draws: early, middle and late.
    static func representativeSteps(layers: Int) -> [Int] {
        Array(Set([max(1, layers / 6), max(1, layers / 2), max(1, min(layers - 1, 5 * layers / 6))])).sorted()
    }

    /// Recorded only for the report's quantile–quantile figure, never judged: for each representative
    /// τ = 1 pair (t, t+1), the residuals δ of step 2 standardized per coordinate, (δ_i − μ_i)/σ_i, pooled
    /// over all N·D values, at ``quantileProbabilities`` (`qq_t<t>`, layer = index q), and the standard
    /// normal's quantiles at the same probabilities (`qq_gaussian`). A Gaussian residual lies on the diagonal.
    static func quantileMetrics(_ bases: TrajectoryBases) -> [Metric] {
        let n = bases.sampleCount, d = bases.width
        let probabilities = quantileProbabilities
        var metrics = probabilities.enumerated().map { q, p in
            Metric("qq_gaussian", layer: q, unit: "standard normal quantile (layer = quantile index)", value: inverseNormalCDF(p))
        }
        for t in representativeSteps(layers: bases.layerCount) {
            let coordinates = Matrix.product(bases.states[t - 1], bases.aligned[t - 1], transposeRight: true)
            let from = bases.alignedSingularValues[t - 1], to = bases.alignedSingularValues[t]
            var stretched = coordinates
            stretched.withUnsafeMutableStorage { c in
                for r in 0..<n { for i in 0..<d { c[r * d + i] *= to[i] / from[i] } }
            }
            let predicted = Matrix.product(stretched, bases.aligned[t])
            let actual = bases.states[t]
            var residual = [Double](repeating: 0, count: n * d)
            for r in 0..<n { for i in 0..<d { residual[r * d + i] = actual[r, i] - predicted[r, i] } }
            var standardized: [Double] = []
            standardized.reserveCapacity(n * d)
            for i in 0..<d {
                let column = (0..<n).map { residual[$0 * d + i] }
                let mean = Statistics.mean(column)
                let sd = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)).squareRoot()
                guard sd > 0 else { continue }
                standardized += column.map { ($0 - mean) / sd }
            }
            standardized.sort()
            for (q, p) in probabilities.enumerated() {
                metrics.append(Metric(String(format: "qq_t%02d", t), layer: q,
                                      unit: "standardized residual quantile (layer = quantile index)",
                                      value: Self.sortedQuantile(standardized, p)))
            }
        }
        return metrics
    }

    /// The linear-interpolation quantile of already sorted values (as ``Statistics/quantile(_:_:)``, without re-sorting).
    static func sortedQuantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * p
        let lower = Int(h.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
    }
}
