import Analysis
import Profiling
import Evidence
import Foundation

/// Extra TD check — how unit correlation decays with the distance between layers
/// (claims spec §4 "Unit-correlation decay with lag", extending TD-1).
///
/// Method: on the last-token states of TD-1's WikiText paragraphs, for every lag k = 1…10
/// and every start layer l ≥ 1 with l + k ≤ L, med_r(l, l+k) is the median over units of the
/// Pearson correlation of unit u at layer l with the same unit at layer l + k, over samples
/// (h₀ is left out: the first block rewrites the embedding). Recorded per lag: the median over
/// start layers (`lag_med_r[k]`, as TD-1's summary) and its value for start layers in each third
/// of the depth (a pair (l, l + k) belongs to the third of its first transition, l + ½, §0.7);
/// the correlation length τ from the least-squares fit ln med_r(k) ≈ a − k/τ.
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
    public let criteria: [CriterionDefinition] = []
    public let parameters = [ParameterSpec("maxLag", .int, "the largest layer distance k (default 10)")]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a correlation over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate recomputes every per-unit correlation from weighted \
        moments, then the lag curve and the correlation length, as TD-1 does.
        """

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

        let thirds = try DepthThirds(layers: blocks)
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
            for (name, third) in [("early", DepthThirds.Third.early), ("mid", .middle), ("late", .late)] {
                let values = thirds.transitions(in: third).compactMap { byStart[$0] }
                if !values.isEmpty {
                    metrics.append(Metric("lag_med_r_\(name)", layer: lag, unit: "r", value: Statistics.median(values)))
                }
            }
        }
        // Correlation length from ln med_r(k) ≈ a − k/τ, when the curve stays positive.
        func correlationLength(_ curve: [Double]) -> (length: Double, rSquared: Double)? {
            guard curve.allSatisfy({ $0 > 0 }), let fit = try? LinearFit(x: (1...maxLag).map(Double.init), y: curve.map { log($0) })
            else { return nil }
            return (fit.slopes[0] < 0 ? -1 / fit.slopes[0] : .infinity, fit.rSquared)
        }
        let point = correlationLength(curve)
        if let point { metrics.append(Metric("lag_fit_r_squared", unit: "R²", value: point.rSquared)) }

        // Intervals: the lag curve of every bootstrap resample of the prompts.
        let bootstrap = context.bootstrap(states.sampleCount)
        let weights = bootstrap.meanWeights()
        let firsts = states.residual.map { ResampledColumns($0, weights: weights) }
        let seconds = shuffled ? states.residual.map { ResampledColumns($0.rows(at: permutation), weights: weights) } : firsts
        var replicateCurves = [[Double]](repeating: [], count: bootstrap.replicates)
        PhaseClock.time(.resampling, work: bootstrap.replicates) {
        for lag in 1...maxLag {
            var starts = [[Double]](repeating: [], count: bootstrap.replicates)
            for l in 1...(blocks - lag) {
                let r = ResampledColumns.correlations(firsts[l], seconds[l + lag], weights: weights)
                var scratch: [Double] = []
                r.storage.withUnsafeBufferPointer { all in
                    for b in 0..<bootstrap.replicates {
                        starts[b].append(Statistics.medianIgnoringNaN(UnsafeBufferPointer(rebasing: all[(b * r.columns)..<((b + 1) * r.columns)]), scratch: &scratch))
                    }
                }
            }
            for b in 0..<bootstrap.replicates { replicateCurves[b].append(Statistics.medianIgnoringNaN(starts[b])) }
        }
        }
        for lag in 1...maxLag {
            if let index = metrics.firstIndex(where: { $0.key == "lag_med_r[\(lag)]" }) {
                metrics[index].interval = bootstrap.interval(replicateCurves.map { $0[lag - 1] }, unit: "prompts")
            }
        }
        if let point, point.length.isFinite {
            let lengths = replicateCurves.map { correlationLength($0)?.length ?? .nan }
            metrics.append(Metric("correlation_length", unit: "layers", value: point.length, interval: bootstrap.interval(lengths, unit: "prompts")))
        }
        metrics.append(Metric("lag_med_r_max_lag", unit: "r", value: curve.last!))
        metrics += thirds.metrics

        var notes = ["informational (spec §4): the decay of unit correlation with layer distance has no pass criterion"]
        switch context.subject {
        case .control(Self.shuffleControl): notes.append("statistics computed with samples shuffled between the two layers")
        case .control(RandomInitialization.controlName): notes.append("random-init is a positive comparison: residual continuity is partly architectural")
        default: break
        }
        return ClaimOutcome(metrics: metrics, notes: notes, informational: true)
    }
}
