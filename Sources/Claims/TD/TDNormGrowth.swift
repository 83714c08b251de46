import Analysis
import Evidence
import Foundation

/// Extra TD check — the geometric growth rate of the residual norm over depth (claims spec §4
/// "Norm growth rate", related to TD-3 and LoT-3).
///
/// Method: on the last-token states of TD-1's WikiText paragraphs, n_l = mean over samples of
/// ‖h_l‖₂ for l = 0…L, and the per-layer growth rate g_l = ln(n_{l+1}/n_l) for l ≥ 1 (h₀ → h₁ is
/// the first block rewriting the embedding). Summaries: the mean g over each third of the depth
/// (g_l is a transition, so it belongs to the third of l + ½, §0.7), and least-squares fits over
/// the layers of the last third of ln n_l against l (exponential growth, rate per layer) and
/// against ln l (power law; random residual stacks grow like √l, exponent ½).
///
/// Verdict: informational (the spec names no pass criterion; the pilot saw roughly exponential
/// growth after layer 20). `random-init` is recorded for comparison.
public struct TDNormGrowth: Claim {
    public let id = "TD-norm"
    public let title = "The residual norm grows geometrically in late layers"
    public let source = "Fernando & Guitchounts 2025 (TD-3) and Sarfati et al. 2024 (LoT-3), extra"
    public let controls = [RandomInitialization.controlName]
    public let criteria: [CriterionDefinition] = []
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a mean norm over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate re-averages the per-sample norms and refits the growth rates.
        """

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        guard blocks >= 6, states.sampleCount >= 1 else {
            throw ClaimError.insufficientData("TD-norm needs ≥ 6 blocks and ≥ 1 paragraph, got \(blocks) blocks and \(states.sampleCount) paragraphs")
        }
        let thirds = try DepthThirds(layers: blocks)
        let n = states.sampleCount
        var perSample = Matrix(rows: n, columns: blocks + 1)
        for (l, m) in states.residual.enumerated() {
            for s in 0..<n { perSample[s, l] = m.row(s).reduce(0) { $0 + $1 * $1 }.squareRoot() }
        }
        let norms = states.residual.indices.map { l in mean((0..<n).map { perSample[$0, l] }) }
        var metrics = norms.enumerated().map { Metric("norm", layer: $0.offset, unit: "L2", value: $0.element) }
        let layers = Array(1..<blocks)
        let late = thirds.layers(in: .late)
        struct Summary { var early: Double, middle: Double, late: Double, rate: Double }
        func summary(_ norm: (Int) -> Double) throws -> Summary {
            let growth = layers.map { log(norm($0 + 1) / norm($0)) }
            func third(_ t: DepthThirds.Third) -> Double {
                mean(layers.indices.filter { thirds.third(ofTransitionFrom: layers[$0]) == t }.map { growth[$0] })
            }
            let fit = try LinearFit(x: late.map(Double.init), y: late.map { log(norm($0)) })
            return Summary(early: third(.early), middle: third(.middle), late: third(.late), rate: fit.slopes[0])
        }
        let growth = layers.map { log(norms[$0 + 1] / norms[$0]) }
        for (l, g) in zip(layers, growth) { metrics.append(Metric("growth_rate", layer: l, unit: "ln ratio", value: g)) }
        let point = try summary { norms[$0] }
        let bootstrap = context.bootstrap(n)
        let replicateNorms = Matrix.product(bootstrap.meanWeights(), perSample)
        let replicates = (0..<bootstrap.replicates).map { r in try? summary { replicateNorms[r, $0] } }
        func interval(_ value: (Summary) -> Double) -> Interval {
            bootstrap.interval(replicates.map { $0.map(value) ?? .nan }, unit: "prompts")
        }
        metrics += [
            Metric("growth_rate_early", unit: "ln ratio", value: point.early, interval: interval(\.early)),
            Metric("growth_rate_mid", unit: "ln ratio", value: point.middle, interval: interval(\.middle)),
            Metric("growth_rate_late", unit: "ln ratio", value: point.late, interval: interval(\.late)),
        ]
        // Fits over the layers of the last third of the depth.
        let logNorm = late.map { log(norms[$0]) }
        let exponential = try LinearFit(x: late.map(Double.init), y: logNorm)
        let power = try LinearFit(x: late.map { log(Double($0)) }, y: logNorm)
        metrics += [
            Metric("late_exponential_rate", unit: "per layer", value: exponential.slopes[0], interval: interval(\.rate)),
            Metric("late_exponential_r_squared", unit: "R²", value: exponential.rSquared),
            Metric("late_power_exponent", unit: "exponent", value: power.slopes[0]),
            Metric("late_power_r_squared", unit: "R²", value: power.rSquared),
            Metric("norm_ratio_last_first", unit: "ratio", value: norms[blocks] / norms[1]),
        ] + thirds.metrics
        var notes = ["informational (spec §4): norm growth has no pass criterion; it is the cause of TD-3's acceleration and TD-5's outward spiral"]
        if context.subject == .control(RandomInitialization.controlName) {
            notes.append("random-init for comparison: a random residual stack's norm grows roughly like √l")
        }
        return ClaimOutcome(metrics: metrics, notes: notes, informational: true)
    }
}
