import Analysis
import Evidence

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
/// third) ≥ 0.05, the thirds being those of the layers (§0.7). The random-init control stays
/// flat (pilot: 0.64 everywhere) and must fail.
public struct TD2Densification: Claim {
    public let id = "TD-2"
    public let title = "Activations grow denser over layers"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), Fig. 1B"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("spearman_rho_excl_min", statistic: "spearman_rho_excl", .atLeast, 0.5,
                            "Spearman(l, ρ without the massive units) over l = 1…L"),
        CriterionDefinition("delta_rho_excl_min", statistic: "delta_rho_excl", .atLeast, 0.05,
                            "Δρ: mean ρ (without massive units) over the late third minus the early third"),
    ]
    public let parameters = [ParameterSpec("massive_units", .int, "how many largest-|activation| units variant (b) leaves out (default 5)")]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a mean density over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate re-averages the per-sample densities (the massive units \
        stay those of the full sample, a property of the model) and recomputes the Spearman trend and Δρ. Per-layer \
        densities carry their own bootstrap intervals for the figure.
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let width = states.residual[0].columns
        let excluded = context.parameters.int("massive_units", default: 5)
        guard excluded >= 0, excluded < width else {
            throw ClaimError.insufficientData("\(id) parameter massive_units = \(excluded) must lie in 0..<\(width)")
        }
        let thirds = try DepthThirds(layers: states.blockCount)

        // The massive units: largest mean |activation| over all samples and states.
        var meanAbsolute = [Double](repeating: 0, count: width)
        for state in states.residual {
            for s in 0..<state.rows { for u in 0..<width { meanAbsolute[u] += abs(state[s, u]) } }
        }
        let massive = Set(meanAbsolute.indices.sorted { meanAbsolute[$0] > meanAbsolute[$1] }.prefix(excluded))
        let kept = (0..<width).filter { !massive.contains($0) }

        var metrics: [Metric] = massive.sorted().map { Metric("massive_unit", layer: $0, unit: "index", value: Double($0)) }
        let n = states.sampleCount, layerCount = states.residual.count
        // ρ_b per sample and layer, `[N × (L+1)]`: the unit the bootstrap resamples.
        var perSample = Matrix(rows: n, columns: layerCount)
        var rhoKept: [Double] = []
        for (l, state) in states.residual.enumerated() {
            var all = 0.0, withoutMassive = 0.0, aboveRMS = 0.0
            var meanVector = [Double](repeating: 0, count: width)
            for s in 0..<state.rows {
                let x = state.row(s)
                all += Statistics.hoyerDensity(x)
                let density = Statistics.hoyerDensity(kept.map { x[$0] })
                perSample[s, l] = density
                withoutMassive += density
                let rms = (x.reduce(0) { $0 + $1 * $1 } / Double(width)).squareRoot()
                aboveRMS += Double(x.filter { abs($0) > rms }.count) / Double(width)
                for u in 0..<width { meanVector[u] += x[u] / Double(state.rows) }
            }
            rhoKept.append(withoutMassive / Double(n))
            metrics += [
                Metric("rho_all", layer: l, unit: "hoyer", value: all / Double(n)),
                Metric("frac_above_rms", layer: l, unit: "fraction", value: aboveRMS / Double(n)),
                Metric("rho_mean_vector", layer: l, unit: "hoyer", value: Statistics.hoyerDensity(meanVector)),
            ]
        }
        // h₀ is excluded: embeddings look dense.
        let layers = Array(1...states.blockCount)
        let early = thirds.layers(in: .early), late = thirds.layers(in: .late)
        func summaries(_ rho: (Int) -> Double) -> (spearman: Double, delta: Double) {
            (Statistics.spearman(layers.map(Double.init), layers.map(rho)), mean(late.map(rho)) - mean(early.map(rho)))
        }
        let point = summaries { rhoKept[$0] }

        let bootstrap = context.bootstrap(n)
        let replicateMeans = Matrix.product(bootstrap.meanWeights(), perSample)
        var spearmans: [Double] = [], deltas: [Double] = []
        for r in 0..<bootstrap.replicates {
            let replicate = summaries { replicateMeans[r, $0] }
            spearmans.append(replicate.spearman)
            deltas.append(replicate.delta)
        }
        for l in 0..<layerCount {
            metrics.append(Metric("rho_excl_massive", layer: l, unit: "hoyer", value: rhoKept[l],
                                  interval: bootstrap.interval((0..<bootstrap.replicates).map { replicateMeans[$0, l] }, unit: "prompts")))
        }
        metrics += [
            Metric("spearman_rho_excl", unit: "rho", value: point.spearman, interval: bootstrap.interval(spearmans, unit: "prompts")),
            Metric("delta_rho_excl", unit: "hoyer", value: point.delta, interval: bootstrap.interval(deltas, unit: "prompts")),
        ] + thirds.metrics
        return ClaimOutcome(metrics: metrics, notes: ["thirds of the depth: layers \(thirds.summary)"])
    }
}
