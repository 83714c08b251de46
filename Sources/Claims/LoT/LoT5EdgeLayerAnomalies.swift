import Analysis
import Evidence

/// LoT-5 — anomalies in the first and last layers (Sarfati et al., *Lines of Thought in LLMs*,
/// §4.3, Figs. A8–A10).
///
/// Method (claims spec §2 LoT-5), on the LoT-3 residuals of the Walden-chunk trajectories
/// (`.chunks`, last token, N ≥ D, aligned uncentered bases, natural logarithms):
/// - (i) **pre-norm**: the engine-native points h₁…h_L, exactly LoT-3's pairs;
/// - (ii) **HF convention**: the last point h_L replaced by the final-norm output n(h_L), as
///   HF `hidden_states` (and the authors' Llama/Mistral code) return it; only layer L's basis
///   is recomputed and aligned to layer L − 1.
/// The interior fit A2 = ln α + λ·(t+τ) (LoT-3, pairs with t ≥ 2 and t₂ ≤ L − 1, which do not
/// touch the last point, so it is the same in both conventions) predicts the last step;
/// Δ_last = A2(L−1 → L) − (ln α + λ·L) in each convention. Early layers: the mean A3 of the
/// τ = 1 pairs with t ≤ 4 against the mean A3 of the middle third (L/3 < t ≤ 2L/3).
///
/// Pass: |Δ_last| ≤ 2 nats pre-norm; |Δ_last| ≥ 3 nats in HF convention (the paper's
/// "misaligned last layer" is an artifact of the final norm); mean A3(t ≤ 4) ≥ 2 × middle-third A3.
/// Pilot: pre-norm A2 6.69 at 29→30 vs 5.58 at 28→29; HF A2 1.03 (Δ ≈ −5.7); early A3 1.1–1.3 vs ~0.3.
///
/// Control `random-init` is **informational**: the spec states no expected behaviour for it.
/// It is still worth recording — RI's final norm rescales a small h_L to unit RMS, so the HF jump
/// changes sign, and RI's residuals are near-Gaussian at every depth (LoT-3: A3 ≈ 0.13), so no
/// early-layer kurtosis excess is expected — but passing or failing it proves nothing about the claim.
public struct LoT5EdgeLayerAnomalies: Claim {
    public let id = "LoT-5"
    public let title = "Anomalies in the first and last layers: the last one is a final-norm artifact"
    public let source = "Sarfati et al. 2024/25, Lines of Thought in LLMs (arXiv 2410.01545), §4.3, Figs. A8–A10"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("abs_delta_last_prenorm_max", statistic: "abs_delta_last_prenorm", .atMost, 2,
                            "|Δ_last| with pre-norm states: last-step A2 minus the interior fit's prediction, in nats"),
        CriterionDefinition("abs_delta_last_hf_min", statistic: "abs_delta_last_hf", .atLeast, 3,
                            "|Δ_last| in HF convention (n(h_L) as the last point), in nats"),
        CriterionDefinition("A3_early_to_middle_min", statistic: "A3_early_to_middle", .atLeast, 2,
                            "mean A3 over t ≤ 4 over the middle-third A3"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .chunks, absolute: 4, perWidth: 1.25,
        reason: "each layer's basis must span ℝ^D with room to spare (claims spec §2: N ≥ 1.25·D)")
    public let uncertainty = """
        Delete-a-group jackknife over the trajectories, shared with LoT-3: bases, the interior fit, the last step in \
        both conventions and the kurtosis ratio are refitted without each group; a Student-t interval.
        """

    public init() {}

    /// The last A3 layer counted as "early" (t ≤ 4, spec).
    static let earlyLayers = 4

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let (bases, pairs) = try context.trajectoryResiduals(claim: id)
        let layers = bases.layerCount
        guard layers >= 3 * Self.earlyLayers else {
            throw ClaimError.insufficientData("\(id) compares t ≤ \(Self.earlyLayers) with the middle third; the model has only \(layers) blocks")
        }
        let states = try context.lastPositionStates(.chunks)
        let fit = try TrajectoryResiduals.interiorFit(pairs, layers: layers)
        let predictedLast = fit.intercept + fit.slopes[0] * Double(layers)

        let steps = pairs.filter { $0.tau == 1 }.sorted { $0.t < $1.t }
        guard let lastPreNorm = steps.last, lastPreNorm.t2 == layers else {
            throw ClaimError.insufficientData("\(id): no τ = 1 pair ends at the last layer")
        }
        let normalized = try bases.replacingLastPoint(with: states.finalNorm, claim: id)
        guard let lastHF = TrajectoryResiduals.aggregates(normalized, including: { $1 == layers && $1 - $0 == 1 }).first else {
            throw ClaimError.insufficientData("\(id): the HF-convention last step could not be formed")
        }
        let deltaPreNorm = lastPreNorm.a2 - predictedLast
        let deltaHF = lastHF.a2 - predictedLast

        let thirds = try DepthThirds(layers: layers)
        let early = steps.filter { $0.t <= Self.earlyLayers }.map(\.a3)
        let middle = steps.filter { thirds.third(ofTransitionFrom: $0.t) == .middle }.map(\.a3)
        let earlyA3 = Statistics.mean(early), middleA3 = Statistics.mean(middle)
        let earlyRatio = earlyA3 / middleA3

        struct Summary { var deltaPreNorm, deltaHF, earlyRatio: Double }
        let (jackknife, replicates) = try context.trajectoryJackknife(claim: id)
        let replicateSummaries = try replicates.map { replicate -> Summary in
            let fit = try TrajectoryResiduals.interiorFit(replicate.pairs, layers: layers)
            let predicted = fit.intercept + fit.slopes[0] * Double(layers)
            let last = replicate.steps.first { $0.t2 == layers }?.a2 ?? .nan
            let early = replicate.steps.filter { $0.t <= Self.earlyLayers }.map(\.a3)
            let middle = replicate.steps.filter { thirds.third(ofTransitionFrom: $0.t) == .middle }.map(\.a3)
            return Summary(deltaPreNorm: abs(last - predicted), deltaHF: abs((replicate.lastStepHF?.a2 ?? .nan) - predicted),
                           earlyRatio: Statistics.mean(early) / Statistics.mean(middle))
        }
        func interval(_ estimate: Double, _ value: (Summary) -> Double) -> Interval {
            jackknife.interval(estimate: estimate, replicateValues: replicateSummaries.map(value), unit: "trajectories")
        }

        var metrics: [Metric] = []
        for step in steps {
            metrics.append(Metric("A2_tau1_prenorm", layer: step.t, unit: "ln variance", value: step.a2))
            metrics.append(Metric("A3_tau1", layer: step.t, unit: "|excess kurtosis|", value: step.a3))
        }
        metrics += [
            Metric("lambda_interior", unit: "nats/layer", value: fit.slopes[0]),
            Metric("log_alpha_interior", unit: "nats", value: fit.intercept),
            Metric("r2_interior", unit: "R²", value: fit.rSquared),
            Metric("A2_last_predicted", unit: "ln variance", value: predictedLast),
            Metric("A2_last_prenorm", unit: "ln variance", value: lastPreNorm.a2),
            Metric("A2_last_hf", unit: "ln variance", value: lastHF.a2),
            Metric("delta_last_prenorm", unit: "nats", value: deltaPreNorm),
            Metric("delta_last_hf", unit: "nats", value: deltaHF),
            Metric("abs_delta_last_prenorm", unit: "nats", value: abs(deltaPreNorm), interval: interval(abs(deltaPreNorm), \.deltaPreNorm)),
            Metric("abs_delta_last_hf", unit: "nats", value: abs(deltaHF), interval: interval(abs(deltaHF), \.deltaHF)),
            Metric("A1_last_prenorm", unit: "|mean|/sd", value: lastPreNorm.a1),
            Metric("A1_last_hf", unit: "|mean|/sd", value: lastHF.a1),
            Metric("A3_last_prenorm", unit: "|excess kurtosis|", value: lastPreNorm.a3),
            Metric("A3_last_hf", unit: "|excess kurtosis|", value: lastHF.a3),
            Metric("A3_early_mean", unit: "|excess kurtosis|", value: earlyA3),
            Metric("A3_early_min", unit: "|excess kurtosis|", value: early.min() ?? .nan),
            Metric("A3_middle_third", unit: "|excess kurtosis|", value: middleA3),
            Metric("A3_early_to_middle", unit: "ratio", value: earlyRatio, interval: interval(earlyRatio, \.earlyRatio)),
        ] + thirds.metrics
        var notes = [
            "N = \(bases.sampleCount) trajectories, D = \(bases.width); natural logarithms; Δ_last against the interior fit "
                + "ln α + λ·(t+τ) = \(fit.intercept) + \(fit.slopes[0])·(t+τ) (R² \(fit.rSquared)) evaluated at t+τ = \(layers)",
        ]
        if context.subject == .control(RandomInitialization.controlName) {
            notes.append("random-init is informational: the spec gives no expected behaviour for it (see the doc comment)")
            return ClaimOutcome(metrics: metrics, notes: notes, informational: true)
        }
        return ClaimOutcome(metrics: metrics, notes: notes)
    }
}
