import Analysis

/// TD-3 — the residual stream accelerates over layers (Fernando & Guitchounts, *Transformer
/// Dynamics*, thread and summary).
///
/// Method (claims spec §1 TD-3), on the last-token states of TD-1's WikiText paragraphs,
/// for l ≥ 1: velocity v_l = mean over samples of ‖h_{l+1} − h_l‖₂, relative velocity
/// v_l/‖h_l‖, cos(h_l, h_{l+1}) and the norm ‖h_l‖. The acceleration ratio A is the mean
/// velocity of the last third of the depth over that of the middle third.
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

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        let layers = Array(1..<blocks)  // transitions h_l → h_{l+1}, l ≥ 1
        var velocity: [Double] = [], cosine: [Double] = [], metrics: [Metric] = []
        for l in 0...blocks {
            let x = states.residual[l]
            let norm = mean((0..<x.rows).map { s in x.row(s).reduce(0) { $0 + $1 * $1 }.squareRoot() })
            metrics.append(Metric("norm", layer: l, unit: "L2", value: norm))
        }
        for l in layers {
            let x = states.residual[l], y = states.residual[l + 1]
            var v = 0.0, relative = 0.0, c = 0.0
            for s in 0..<x.rows {
                let a = x.row(s), b = y.row(s)
                let step = zip(a, b).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) }.squareRoot()
                v += step
                relative += step / max(a.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-30)
                c += Statistics.cosineSimilarity(a, b)
            }
            let n = Double(x.rows)
            velocity.append(v / n)
            cosine.append(c / n)
            metrics += [
                Metric("velocity", layer: l, unit: "L2", value: v / n),
                Metric("relative_velocity", layer: l, unit: "ratio", value: relative / n),
                Metric("cos_next", layer: l, unit: "cosine", value: c / n),
            ]
        }
        let thirds = depthThirds(Array(velocity.indices))
        let acceleration = mean(thirds.late.map { velocity[$0] }) / mean(thirds.middle.map { velocity[$0] })
        let spearmanVelocity = Statistics.spearman(layers.map(Double.init), velocity)
        let spearmanCosine = Statistics.spearman(layers.map(Double.init), cosine)
        metrics += [
            Metric("acceleration_ratio", unit: "ratio", value: acceleration),
            Metric("spearman_velocity", unit: "rho", value: spearmanVelocity),
            Metric("spearman_cos", unit: "rho", value: spearmanCosine),
        ]
        return ClaimOutcome(judging: [
            Criterion("acceleration ratio A (late / middle third velocity) ≥ 2", observed: acceleration, passed: acceleration >= 2),
            Criterion("Spearman(l, velocity) ≥ 0.6", observed: spearmanVelocity, passed: spearmanVelocity >= 0.6),
        ], metrics: metrics, notes: ["cosine rise (Spearman \(spearmanCosine)) is informational: random weights show it trivially"])
    }
}
