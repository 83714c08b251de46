import Analysis
import Foundation

/// Extra TD check — the geometric growth rate of the residual norm over depth (claims spec §4
/// "Norm growth rate", related to TD-3 and LoT-3).
///
/// Method: on the last-token states of TD-1's WikiText paragraphs, n_l = mean over samples of
/// ‖h_l‖₂ for l = 0…L, and the per-layer growth rate g_l = ln(n_{l+1}/n_l) for l ≥ 1 (h₀ → h₁ is
/// the first block rewriting the embedding). Summaries: the mean g over each third of the depth,
/// and least-squares fits over the last third of ln n_l against l (exponential growth, rate
/// per layer) and against ln l (power law; random residual stacks grow like √l, exponent ½).
///
/// Verdict: informational (the spec names no pass criterion; the pilot saw roughly exponential
/// growth after layer 20). `random-init` is recorded for comparison.
public struct TDNormGrowth: Claim {
    public let id = "TD-norm"
    public let title = "The residual norm grows geometrically in late layers"
    public let source = "Fernando & Guitchounts 2025 (TD-3) and Sarfati et al. 2024 (LoT-3), extra"
    public let controls = [RandomInitialization.controlName]

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        guard blocks >= 6, states.sampleCount >= 1 else {
            throw ClaimError.insufficientData("TD-norm needs ≥ 6 blocks and ≥ 1 paragraph, got \(blocks) blocks and \(states.sampleCount) paragraphs")
        }
        let norms = states.residual.map { m in
            mean((0..<m.rows).map { s in m.row(s).reduce(0) { $0 + $1 * $1 }.squareRoot() })
        }
        var metrics = norms.enumerated().map { Metric("norm", layer: $0.offset, unit: "L2", value: $0.element) }
        let layers = Array(1..<blocks)
        let growth = layers.map { log(norms[$0 + 1] / norms[$0]) }
        for (l, g) in zip(layers, growth) { metrics.append(Metric("growth_rate", layer: l, unit: "ln ratio", value: g)) }
        let thirds = depthThirds(Array(growth.indices))
        metrics += [
            Metric("growth_rate_early", unit: "ln ratio", value: mean(thirds.early.map { growth[$0] })),
            Metric("growth_rate_mid", unit: "ln ratio", value: mean(thirds.middle.map { growth[$0] })),
            Metric("growth_rate_late", unit: "ln ratio", value: mean(thirds.late.map { growth[$0] })),
        ]
        // Fits over the residual indices of the last third of the depth.
        let late = Array((blocks - blocks / 3)...blocks)
        let logNorm = late.map { log(norms[$0]) }
        let exponential = try LinearFit(x: late.map(Double.init), y: logNorm)
        let power = try LinearFit(x: late.map { log(Double($0)) }, y: logNorm)
        metrics += [
            Metric("late_exponential_rate", unit: "per layer", value: exponential.slopes[0]),
            Metric("late_exponential_r_squared", unit: "R²", value: exponential.rSquared),
            Metric("late_power_exponent", unit: "exponent", value: power.slopes[0]),
            Metric("late_power_r_squared", unit: "R²", value: power.rSquared),
            Metric("norm_ratio_last_first", unit: "ratio", value: norms[blocks] / norms[1]),
        ]
        var notes = ["informational (spec §4): norm growth has no pass criterion; it is the cause of TD-3's acceleration and TD-5's outward spiral"]
        if context.subject == .control(RandomInitialization.controlName) {
            notes.append("random-init for comparison: a random residual stack's norm grows roughly like √l")
        }
        return ClaimOutcome(verdict: .informational, metrics: metrics, notes: notes)
    }
}
