import Analysis
import Profiling
import Evidence
import Foundation

/// TD-5 — units rotate in activation-vs-"gradient" space, "~10 times over 64 layers", some
/// spiralling outward (Fernando & Guitchounts, *Transformer Dynamics*, author thread).
///
/// Method (claims spec §1 TD-5), on the last-token states of TD-1's WikiText paragraphs along
/// the sub-layer sequence a₁, m₁, …, a_L, m_L, h_L (S = 2L + 1 states; a_l = h_{l−1} before
/// attention, m_l before the MLP). For each unit u, take its series a(k), both as the mean over
/// samples and per sample. The "gradient" is the layer difference g(k) = a(k+1) − a(k) (not a
/// backprop gradient). The phase point is z_k = ((a_k − ā)/sd_a, (g_k − ḡ)/sd_g) for
/// k = 0…S−2, θ_k its angle, and the revolutions n_u = |Σ wrap(θ_{k+1} − θ_k)| / 2π. The spiral
/// rate is the least-squares slope of ln|z_k| against k (positive = outward, "unstable").
/// Everything is repeated on norm-normalized states (each state vector divided by its L2 norm
/// before the units are read), which removes the global norm growth.
///
/// Nulls on series of the same length, one per unit, seeded: the unit's mean series with its
/// layers permuted, i.i.d. Gaussian noise and a Gaussian random walk. Any noisy series winds
/// around the (x, Δx) plane, so the revolutions only mean something above these.
///
/// Verdict: informational (xfail) unless all of these hold, then supported: n̄ ≥ 5 revolutions
/// (mean trajectory), n̄ above the random-walk null by ≥ 3 standard errors, and a positive
/// normalized spiral slope for ≥ 75 % of units. SmolLM2 fails (pilot n̄ = 1.84 against 2.03 for
/// the random walk; the raw outward spiral, +0.025 per step for 100 % of units, shrinks to
/// +0.002 for 54 % once the norm growth is divided out). The random-init control is recorded
/// but is no control here (pilot n̄ = 2.10).
public struct TD5Rotations: Claim {
    public let id = "TD-5"
    public let title = "Units rotate in activation-vs-difference space"
    public let source = "Fernando & Guitchounts 2025, Transformer Dynamics (arXiv 2502.12131), author thread"
    public let controls = [RandomInitialization.controlName]
    public let criteria = [
        CriterionDefinition("revolutions_min", statistic: "revolutions_mean_trajectory_raw", .atLeast, 5,
                            "mean revolutions n̄ of the units' mean trajectories"),
        CriterionDefinition("excess_over_random_walk_min", statistic: "excess_over_random_walk", .atLeast, 3,
                            "n̄ above the Gaussian random-walk null, in standard errors"),
        CriterionDefinition("outward_share_min", statistic: "spiral_slope_normalized_positive_share", .atLeast, 0.75,
                            "share of units whose normalized spiral slope is positive"),
    ]
    public let sampleRequirement: SampleRequirement? = SampleRequirement(
        .paragraphs, absolute: 5, reason: "a mean trajectory over samples and its bootstrap need more than a handful of samples")
    public let uncertainty = """
        Percentile bootstrap over the prompts: each replicate re-averages the states into new mean trajectories (raw \
        and norm-normalized) and recounts every unit's revolutions and spiral slope; the surrogate nulls stay fixed.
        """

    public init() {}

    /// The winding of one series in its (value, difference) phase plane.
    struct Phase {
        var revolutions: Double
        /// Slope of ln|z_k| against k; nil when not requested.
        var spiralSlope: Double?
    }

    public func run(_ context: ClaimContext) throws -> ClaimOutcome {
        try context.requireKnownSubject(self)
        let states = try context.lastPositionStates(.paragraphs)
        let blocks = states.blockCount
        guard states.mid.count == blocks, blocks >= 2 else {
            throw ClaimError.insufficientData("TD-5 needs the mid-block (pre-MLP) states of every block; got \(states.mid.count) for \(blocks) blocks")
        }
        guard states.sampleCount >= 2 else {
            throw ClaimError.insufficientData("TD-5 needs ≥ 2 paragraphs, got \(states.sampleCount)")
        }
        // a₁, m₁, …, a_L, m_L, h_L.
        let sequence = (0..<blocks).flatMap { [states.residual[$0], states.mid[$0]] } + [states.residual[blocks]]
        let length = sequence.count
        let width = sequence[0].columns
        let samples = states.sampleCount
        let normalized = sequence.map(Self.rowsScaledToUnitNorm)

        var metrics: [Metric] = [Metric("series_length", unit: "states", value: Double(length))]
        // Mean trajectories, raw and normalized.
        var meanPhases: [String: [Phase]] = [:]
        var outwardShares: [String: Double] = [:]
        let rawMeans = sequence.map(Self.columnMeans)
        for (variant, matrices) in [("raw", sequence), ("normalized", normalized)] {
            let means = variant == "raw" ? rawMeans : matrices.map(Self.columnMeans)
            let phases = try (0..<width).compactMap { u in try Self.phase(means.map { $0[u] }, slope: true) }
            guard !phases.isEmpty else { throw ClaimError.insufficientData("TD-5: every unit's mean series is constant") }
            meanPhases[variant] = phases
            let revolutions = phases.map(\.revolutions), slopes = phases.compactMap(\.spiralSlope)
            outwardShares[variant] = Double(slopes.filter { $0 > 0 }.count) / Double(slopes.count)
            metrics += [
                Metric("revolutions_mean_trajectory_\(variant)", unit: "turns", value: Statistics.mean(revolutions)),
                Metric("revolutions_mean_trajectory_\(variant)_se", unit: "turns", value: Self.standardError(revolutions)),
                Metric("spiral_slope_\(variant)", unit: "per step", value: Statistics.mean(slopes)),
                Metric("spiral_slope_\(variant)_positive_share", unit: "fraction", value: outwardShares[variant]!),
            ]
            // Per sample: every (sample, unit) series.
            var total = 0.0, count = 0
            var series = [Double](repeating: 0, count: length)
            for s in 0..<samples {
                let rows = matrices.map { $0.row(s) }
                for u in 0..<width {
                    for k in 0..<length { series[k] = rows[k][u] }
                    if let phase = try Self.phase(series, slope: false) {
                        total += phase.revolutions
                        count += 1
                    }
                }
            }
            metrics.append(Metric("revolutions_per_sample_\(variant)", unit: "turns", value: count > 0 ? total / Double(count) : .nan))
        }

        // Surrogate series of the same length, one per unit.
        var rng = PCG64(seed: context.seed, stream: 5)
        var nulls: [String: [Double]] = ["permuted": [], "white_noise": [], "random_walk": []]
        for u in 0..<width {
            let series = rawMeans.map { $0[u] }
            let permuted = rng.permutation(length).map { series[$0] }
            let white = (0..<length).map { _ in rng.nextGaussian() }
            var walk = [Double](repeating: 0, count: length), position = 0.0
            for k in 0..<length {
                position += rng.nextGaussian()
                walk[k] = position
            }
            if let p = try Self.phase(permuted, slope: false) { nulls["permuted"]!.append(p.revolutions) }
            if let p = try Self.phase(white, slope: false) { nulls["white_noise"]!.append(p.revolutions) }
            if let p = try Self.phase(walk, slope: false) { nulls["random_walk"]!.append(p.revolutions) }
        }
        for name in ["permuted", "white_noise", "random_walk"] {
            metrics.append(Metric("null_\(name)_revolutions", unit: "turns", value: Statistics.mean(nulls[name]!)))
        }

        let trained = meanPhases["raw"]!.map(\.revolutions)
        let walk = nulls["random_walk"]!
        let meanRevolutions = Statistics.mean(trained)
        let standardError = (pow(Self.standardError(trained), 2) + pow(Self.standardError(walk), 2)).squareRoot()
        let excess = (meanRevolutions - Statistics.mean(walk)) / standardError
        let outwardShare = outwardShares["normalized"]!
        metrics.append(Metric("excess_over_random_walk", unit: "SE", value: excess))

        // Intervals: the mean trajectories of each bootstrap resample of the prompts, a chunk of replicates at a time.
        let bootstrap = context.bootstrap(samples)
        let weights = bootstrap.meanWeights()
        var replicateRevolutions: [Double] = [], replicateExcess: [Double] = [], replicateOutward: [Double] = []
        let chunk = 200
        try PhaseClock.time(.resampling, work: bootstrap.replicates) {
        for start in stride(from: 0, to: bootstrap.replicates, by: chunk) {
            let rows = Array(start..<min(start + chunk, bootstrap.replicates))
            let w = weights.rows(at: rows)
            let rawMeansChunk = sequence.map { Matrix.product(w, $0) }
            let normalizedMeansChunk = normalized.map { Matrix.product(w, $0) }
            for r in rows.indices {
                let raw = try (0..<width).compactMap { u in try Self.phase(rawMeansChunk.map { $0[r, u] }, slope: false) }.map(\.revolutions)
                let slopes = try (0..<width).compactMap { u in try Self.phase(normalizedMeansChunk.map { $0[r, u] }, slope: true)?.spiralSlope }
                let mean = raw.isEmpty ? Double.nan : Statistics.mean(raw)
                let se = (pow(Self.standardError(raw), 2) + pow(Self.standardError(walk), 2)).squareRoot()
                replicateRevolutions.append(mean)
                replicateExcess.append((mean - Statistics.mean(walk)) / se)
                replicateOutward.append(slopes.isEmpty ? .nan : Double(slopes.filter { $0 > 0 }.count) / Double(slopes.count))
            }
        }
        }
        for (name, values) in [("revolutions_mean_trajectory_raw", replicateRevolutions), ("excess_over_random_walk", replicateExcess),
                               ("spiral_slope_normalized_positive_share", replicateOutward)] {
            if let index = metrics.firstIndex(where: { $0.key == name }) {
                metrics[index].interval = bootstrap.interval(values, unit: "prompts")
            }
        }
        var notes = [
            "informational/xfail (spec §1 TD-5): n̄ = \(String(format: "%.2f", meanRevolutions)) revolutions against \(String(format: "%.2f", Statistics.mean(walk))) for a Gaussian random walk of the same length (\(String(format: "%.1f", excess)) SE): the winding is what any noisy series does in the (x, Δx) plane",
            "the raw outward spiral is the norm growth: the positive-slope share falls from \(String(format: "%.0f", 100 * outwardShares["raw"]!)) % to \(String(format: "%.0f", 100 * outwardShare)) % of units once each state is divided by its norm",
            "TD's counting rule is unknown, so the thread's ~10 revolutions over 64 states cannot be matched directly",
        ]
        if context.subject == .control(RandomInitialization.controlName) {
            notes.append("random-init is recorded for comparison but is no control for TD-5 (pilot n̄ = 2.10 vs 1.84 trained); the surrogate series are the nulls")
        }
        // Informational (xfail) unless every criterion holds over its interval: then "reproduced", supported.
        return ClaimOutcome(metrics: metrics, notes: notes, policy: .informationalUnlessSupported)
    }

    /// The phase-plane winding of `series` (see the type documentation); nil when the series or
    /// its differences are constant.
    static func phase(_ series: [Double], slope: Bool) throws -> Phase? {
        let points = series.count - 1
        guard points >= 3 else { return nil }
        var values = [Double](repeating: 0, count: points), differences = values
        for k in 0..<points {
            values[k] = series[k]
            differences[k] = series[k + 1] - series[k]
        }
        let sdValue = Statistics.standardDeviation(values), sdDifference = Statistics.standardDeviation(differences)
        guard sdValue >= Statistics.degenerateSD, sdDifference >= Statistics.degenerateSD else { return nil }
        let meanValue = Statistics.mean(values), meanDifference = Statistics.mean(differences)
        var winding = 0.0, previous = 0.0
        var logRadius = [Double](repeating: 0, count: slope ? points : 0)
        for k in 0..<points {
            let x = (values[k] - meanValue) / sdValue, y = (differences[k] - meanDifference) / sdDifference
            let theta = atan2(y, x)
            if k > 0 {
                var step = theta - previous
                // Wrap into (−π, π]: the smallest turn between consecutive phase points.
                if step > .pi { step -= 2 * .pi } else if step <= -.pi { step += 2 * .pi }
                winding += step
            }
            previous = theta
            if slope { logRadius[k] = log(max((x * x + y * y).squareRoot(), 1e-300)) }
        }
        let rate = slope ? try LinearFit(x: (0..<points).map(Double.init), y: logRadius).slopes[0] : nil
        return Phase(revolutions: abs(winding) / (2 * .pi), spiralSlope: rate)
    }

    static func standardError(_ values: [Double]) -> Double {
        Statistics.standardDeviation(values) / Double(values.count).squareRoot()
    }

    /// The mean of each column (the across-sample mean state).
    static func columnMeans(_ m: Matrix) -> [Double] {
        var sums = [Double](repeating: 0, count: m.columns)
        for r in 0..<m.rows {
            for c in 0..<m.columns { sums[c] += m.storage[r * m.columns + c] }
        }
        return sums.map { $0 / Double(m.rows) }
    }

    /// Each row divided by its L2 norm (zero rows stay zero).
    static func rowsScaledToUnitNorm(_ m: Matrix) -> Matrix {
        var scaled = m
        scaled.withUnsafeMutableStorage { storage in
            for r in 0..<m.rows {
                var sum = 0.0
                for c in 0..<m.columns { sum += storage[r * m.columns + c] * storage[r * m.columns + c] }
                let norm = sum.squareRoot()
                guard norm > 0 else { continue }
                for c in 0..<m.columns { storage[r * m.columns + c] /= norm }
            }
        }
        return scaled
    }
}
