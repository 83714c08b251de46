import Analysis

/// TD-2 — activations grow denser over layers (Fernando & Guitchounts, *Transformer
/// Dynamics*, Fig. 1B and the author's thread).
///
/// Method (claims spec §1 TD-2), on the last-token states of TD-1's WikiText paragraphs:
/// the Hoyer density ρ(x) = (‖x‖₁/‖x‖₂)²/D (1/D for one active unit, 2/π for a Gaussian
/// vector, 1 for a constant one) per sample and state, averaged over samples, in three
/// variants: (a) all units; (b) without the 5 units with the largest mean |activation| over
/// all states — the massive activations that otherwise dominate every norm; (c) the share
/// of units with |x_u| > RMS(x). ρ of the across-sample mean vector is the Fig. 1B view.
///
/// Pass: Spearman(l, ρ_b) ≥ 0.5 over l = 1…L and Δρ = mean ρ_b(last third) − mean ρ_b(first
/// third) ≥ 0.05. The random-init control stays flat (pilot: 0.64 everywhere) and must fail.
public struct TD2Densification: Claim {
    public let id = "TD-2"
    public let title = "Activations grow denser over layers"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), Fig. 1B"
    public let controls = [RandomInitialization.controlName]

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let width = states.residual[0].columns
        let excluded = context.parameters.int("massive_units", default: 5)

        // The massive units: largest mean |activation| over all samples and states.
        var meanAbsolute = [Double](repeating: 0, count: width)
        for state in states.residual {
            for s in 0..<state.rows { for u in 0..<width { meanAbsolute[u] += abs(state[s, u]) } }
        }
        let massive = Set(meanAbsolute.indices.sorted { meanAbsolute[$0] > meanAbsolute[$1] }.prefix(excluded))
        let kept = (0..<width).filter { !massive.contains($0) }

        var metrics: [Metric] = massive.sorted().map { Metric("massive_unit", layer: $0, unit: "index", value: Double($0)) }
        var rhoKept: [Double] = []
        for (l, state) in states.residual.enumerated() {
            var all = 0.0, withoutMassive = 0.0, aboveRMS = 0.0
            var meanVector = [Double](repeating: 0, count: width)
            for s in 0..<state.rows {
                let x = state.row(s)
                all += Statistics.hoyerDensity(x)
                withoutMassive += Statistics.hoyerDensity(kept.map { x[$0] })
                let rms = (x.reduce(0) { $0 + $1 * $1 } / Double(width)).squareRoot()
                aboveRMS += Double(x.filter { abs($0) > rms }.count) / Double(width)
                for u in 0..<width { meanVector[u] += x[u] / Double(state.rows) }
            }
            let n = Double(state.rows)
            rhoKept.append(withoutMassive / n)
            metrics += [
                Metric("rho_all", layer: l, unit: "hoyer", value: all / n),
                Metric("rho_excl_massive", layer: l, unit: "hoyer", value: withoutMassive / n),
                Metric("frac_above_rms", layer: l, unit: "fraction", value: aboveRMS / n),
                Metric("rho_mean_vector", layer: l, unit: "hoyer", value: Statistics.hoyerDensity(meanVector)),
            ]
        }
        // h₀ is excluded: embeddings look dense.
        let layers = Array(1...states.blockCount)
        let curve = layers.map { rhoKept[$0] }
        let spearman = Statistics.spearman(layers.map(Double.init), curve)
        let thirds = depthThirds(layers)
        let delta = mean(thirds.late.map { rhoKept[$0] }) - mean(thirds.early.map { rhoKept[$0] })
        metrics += [
            Metric("spearman_rho_excl", unit: "rho", value: spearman),
            Metric("delta_rho_excl", unit: "hoyer", value: delta),
        ]
        return ClaimOutcome(judging: [
            Criterion("Spearman(l, ρ without massive units) ≥ 0.5", observed: spearman, passed: spearman >= 0.5),
            Criterion("Δρ (last third − first third) ≥ 0.05", observed: delta, passed: delta >= 0.05),
        ], metrics: metrics)
    }
}
