import Analysis
import Foundation

/// Extra TD check — how unit correlation decays with the distance between layers
/// (claims spec §4 "Unit-correlation decay with lag", extending TD-1).
///
/// Method: on the last-token states of TD-1's WikiText paragraphs, for every lag k = 1…10
/// and every start layer l ≥ 1 with l + k ≤ L, med_r(l, l+k) is the median over units of the
/// Pearson correlation of unit u at layer l with the same unit at layer l + k, over samples
/// (h₀ is left out: the first block rewrites the embedding). Recorded per lag: the median over
/// start layers (`lag_med_r[k]`, as TD-1's summary) and its value for start layers in each third
/// of the depth; the correlation length τ from the least-squares fit ln med_r(k) ≈ a − k/τ.
///
/// Verdict: informational (the spec names no pass criterion). The `shuffle` control pairs
/// sample n at layer l with sample π(n) at layer l + k and should give med_r ≈ 0 at every lag;
/// `random-init` is a positive comparison, since residual continuity is partly architectural.
public struct TDUnitCorrelationLag: Claim {
    public let id = "TD-lag"
    public let title = "Unit correlation decays slowly with the distance between layers"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), Fig. 1C–D (extra)"
    public static let shuffleControl = "shuffle"
    public let controls = [TDUnitCorrelationLag.shuffleControl, RandomInitialization.controlName]

    public init() {}

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        let maxLag = min(context.parameters.int("maxLag", default: 10), blocks - 1)
        guard maxLag >= 2, states.sampleCount >= 3 else {
            throw ClaimError.insufficientData("TD-lag needs ≥ 3 blocks and ≥ 3 paragraphs (and params.maxLag ≥ 2), got \(blocks) blocks and \(states.sampleCount) paragraphs")
        }
        var rng = PCG64(seed: context.seed, stream: 7)
        let permutation = rng.permutation(states.sampleCount)
        let shuffled = context.subject == .control(Self.shuffleControl)

        let thirds = depthThirds(Array(1..<blocks))
        var metrics: [Metric] = []
        var curve: [Double] = []
        for lag in 1...maxLag {
            var byStart: [Int: Double] = [:]
            for l in 1...(blocks - lag) {
                let later = states.residual[l + lag]
                let r = Statistics.columnCorrelations(states.residual[l], shuffled ? later.rows(at: permutation) : later)
                byStart[l] = Statistics.median(r.filter { !$0.isNaN })
            }
            let median = Statistics.median(byStart.keys.sorted().map { byStart[$0]! })
            curve.append(median)
            metrics.append(Metric("lag_med_r", layer: lag, unit: "r", value: median))
            for (name, starts) in [("early", thirds.early), ("mid", thirds.middle), ("late", thirds.late)] {
                let values = starts.compactMap { byStart[$0] }
                if !values.isEmpty {
                    metrics.append(Metric("lag_med_r_\(name)", layer: lag, unit: "r", value: Statistics.median(values)))
                }
            }
        }
        // Correlation length from ln med_r(k) ≈ a − k/τ, when the curve stays positive.
        var length = Double.nan
        if curve.allSatisfy({ $0 > 0 }) {
            let fit = try LinearFit(x: (1...maxLag).map(Double.init), y: curve.map { log($0) })
            length = fit.slopes[0] < 0 ? -1 / fit.slopes[0] : .infinity
            metrics.append(Metric("lag_fit_r_squared", unit: "R²", value: fit.rSquared))
        }
        if length.isFinite { metrics.append(Metric("correlation_length", unit: "layers", value: length)) }
        metrics.append(Metric("lag_med_r_max_lag", unit: "r", value: curve.last!))

        var notes = ["informational (spec §4): the decay of unit correlation with layer distance has no pass criterion"]
        switch context.subject {
        case .control(Self.shuffleControl): notes.append("statistics computed with samples shuffled between the two layers")
        case .control(RandomInitialization.controlName): notes.append("random-init is a positive comparison: residual continuity is partly architectural")
        default: break
        }
        return ClaimOutcome(verdict: .informational, metrics: metrics, notes: notes)
    }
}
