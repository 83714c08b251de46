import Analysis
import Evidence

/// TD-3 — the residual stream accelerates over layers (Fernando & Guitchounts, *Transformer
/// Dynamics*, thread and summary).
///
/// Method (claims spec §1 TD-3), on the last-token states of TD-1's WikiText paragraphs,
/// for l ≥ 1: velocity v_l = mean over samples of ‖h_{l+1} − h_l‖₂, relative velocity
/// v_l/‖h_l‖, cos(h_l, h_{l+1}) and the norm ‖h_l‖. The acceleration ratio A is the mean
/// velocity of the late third of the depth over that of the middle third, a transition
/// h_l → h_{l+1} belonging to the third of l + ½ (§0.7: v_10…v_19 and v_20…v_29 for L = 30).
///
/// Pass: A ≥ 2 and Spearman(l, v_l) ≥ 0.6. The random-init control's velocity grows only
/// like √l (pilot A ≈ 1.01) and must fail A ≥ 2. The "cosine increases" part of the claim is
/// recorded (Spearman(l, cos)) but informational: SmolLM2 does not show it and random
/// weights show it trivially.
public struct TD3Acceleration: Claim {
    public let id = "TD-3"
    public let title = "The residual stream accelerates over layers"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), author thread"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("acceleration_ratio_min", statistic: "acceleration_ratio", .atLeast, 2,
                            "acceleration ratio A: mean velocity of the late third over the middle third"),
        CriterionDefinition("spearman_velocity_min", statistic: "spearman_velocity", .atLeast, 0.6, "Spearman(l, velocity v_l), l ≥ 1"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a mean velocity over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate re-averages the per-sample step lengths ‖h_{l+1} − h_l‖ \
        and recomputes A and the Spearman trend. Per-layer velocities carry their own bootstrap intervals for the figure.
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        let thirds = try DepthThirds(layers: blocks)
        let layers = Array(1..<blocks)  // transitions h_l → h_{l+1}, l ≥ 1
        let n = states.sampleCount
        var velocity: [Double] = [], cosine: [Double] = [], metrics: [Metric] = []
        for l in 0...blocks {
            let x = states.residual[l]
            let norm = mean((0..<x.rows).map { s in x.row(s).reduce(0) { $0 + $1 * $1 }.squareRoot() })
            metrics.append(Metric("norm", layer: l, unit: "L2", value: norm))
        }
        // ‖h_{l+1} − h_l‖ per sample, `[N × (L−1)]`: the unit the bootstrap resamples.
        var steps = Matrix(rows: n, columns: layers.count)
        for (column, l) in layers.enumerated() {
            let x = states.residual[l], y = states.residual[l + 1]
            var v = 0.0, relative = 0.0, c = 0.0
            for s in 0..<x.rows {
                let a = x.row(s), b = y.row(s)
                let step = zip(a, b).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) }.squareRoot()
                steps[s, column] = step
                v += step
                relative += step / max(a.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-30)
                c += Statistics.cosineSimilarity(a, b)
            }
            velocity.append(v / Double(n))
            cosine.append(c / Double(n))
            metrics += [
                Metric("relative_velocity", layer: l, unit: "ratio", value: relative / Double(n)),
                Metric("cos_next", layer: l, unit: "cosine", value: c / Double(n)),
            ]
        }
        let middle = layers.indices.filter { thirds.third(ofTransitionFrom: layers[$0]) == .middle }
        let late = layers.indices.filter { thirds.third(ofTransitionFrom: layers[$0]) == .late }
        func summaries(_ v: (Int) -> Double) -> (acceleration: Double, spearman: Double) {
            (mean(late.map(v)) / mean(middle.map(v)), Statistics.spearman(layers.map(Double.init), layers.indices.map(v)))
        }
        let point = summaries { velocity[$0] }
        let spearmanCosine = Statistics.spearman(layers.map(Double.init), cosine)

        let bootstrap = context.bootstrap(n)
        let replicateMeans = Matrix.product(bootstrap.meanWeights(), steps)
        var accelerations: [Double] = [], spearmans: [Double] = []
        for r in 0..<bootstrap.replicates {
            let replicate = summaries { replicateMeans[r, $0] }
            accelerations.append(replicate.acceleration)
            spearmans.append(replicate.spearman)
        }
        for (column, l) in layers.enumerated() {
            metrics.append(Metric("velocity", layer: l, unit: "L2", value: velocity[column],
                                  interval: bootstrap.interval((0..<bootstrap.replicates).map { replicateMeans[$0, column] }, unit: "prompts")))
        }
        metrics += [
            Metric("acceleration_ratio", unit: "ratio", value: point.acceleration, interval: bootstrap.interval(accelerations, unit: "prompts")),
            Metric("spearman_velocity", unit: "rho", value: point.spearman, interval: bootstrap.interval(spearmans, unit: "prompts")),
            Metric("spearman_cos", unit: "rho", value: spearmanCosine),
        ] + thirds.metrics
        return ClaimOutcome(metrics: metrics, notes: [
            "cosine rise (Spearman \(spearmanCosine)) is informational: random weights show it trivially",
            "thirds of the depth: layers \(thirds.summary); a transition h_l → h_{l+1} belongs to the third of l + ½",
        ])
    }
}
