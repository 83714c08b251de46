import Evidence
import Foundation
import Profiling

/// What a suite asks of every interval: coverage, bootstrap replicates, jackknife groups and the
/// seed the resamples are drawn from (claims spec §0.8). Resampling never runs the model again:
/// it recomputes statistics from states the check already captured.
public struct ResamplingSettings: Sendable, Hashable, Codable {
    public var level: Double
    public var replicates: Int
    public var groups: Int

    public static let standard = ResamplingSettings(level: 0.95, replicates: 1000, groups: 10)

    public init(level: Double, replicates: Int, groups: Int) {
        self.level = level
        self.replicates = replicates
        self.groups = groups
    }
}

/// Percentile bootstrap over a check's sampling units.
///
/// Replicate r draws N unit indices uniformly with replacement from a PCG64 stream that depends
/// only on the seed, so every check (and every subject of one check) resampled with the same
/// seed and N sees the same resamples: a trained model and its control are compared on paired
/// resamples.
public struct Bootstrap: Sendable {
    public let sampleCount: Int
    public let replicates: Int
    public let level: Double
    /// `indices[r]` are the N units of replicate r, sorted.
    public let indices: [[Int]]

    /// The PCG64 stream resamples come from, distinct from every other stream the checks use.
    public static let stream: UInt64 = 0xB007

    public init(sampleCount: Int, settings: ResamplingSettings, seed: UInt64) {
        precondition(sampleCount > 0, "Bootstrap: no sampling units")
        self.sampleCount = sampleCount
        replicates = settings.replicates
        level = settings.level
        var rng = PCG64(seed: seed, stream: Self.stream)
        indices = (0..<settings.replicates).map { _ in
            (0..<sampleCount).map { _ in rng.nextInt(below: sampleCount) }.sorted()
        }
    }

    /// Replicate r as weights w_n = (times unit n was drawn) / N, so that Σ w_n x_n is the
    /// replicate's mean of x: a `[replicates × N]` matrix, one GEMM away from every resampled mean.
    public func meanWeights() -> Matrix {
        var weights = Matrix(rows: replicates, columns: sampleCount)
        let share = 1 / Double(sampleCount)
        weights.withUnsafeMutableStorage { w in
            for (r, drawn) in indices.enumerated() {
                for n in drawn { w[r * sampleCount + n] += share }
            }
        }
        return weights
    }

    /// The percentile interval of `estimate` from its replicate values.
    public func interval(_ replicateValues: [Double], unit: String) -> Interval {
        Self.percentileInterval(replicateValues, level: level, sampleSize: sampleCount, unit: unit)
    }

    /// Each statistic's percentile interval: `statistics(indices)` returns one value per statistic
    /// for one resample; it runs once per replicate, spread over the cores, in a fixed order.
    public func intervals(unit: String, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                          _ statistics: ([Int]) -> [Double]) -> [Interval] {
        let rows = Parallel.map(replicates, workers: workers) { r in statistics(indices[r]) }
        let count = rows.first?.count ?? 0
        return (0..<count).map { k in interval(rows.map { $0[k] }, unit: unit) }
    }

    /// The (α/2, 1 − α/2) quantiles of the finite replicate values, linearly interpolated. When more
    /// than α of the replicates are undefined the statistic cannot be bounded: the interval is (−∞, ∞).
    public static func percentileInterval(_ values: [Double], level: Double, sampleSize: Int, unit: String) -> Interval {
        let finite = PhaseClock.time(.resampling) { values.filter(\.isFinite).sorted() }
        let alpha = 1 - level
        let undefined = values.count - finite.count
        guard !finite.isEmpty, Double(undefined) <= alpha * Double(values.count) else {
            return Interval(low: -.infinity, high: .infinity, level: level, method: .bootstrap,
                            replicates: finite.count, sampleSize: sampleSize, unit: unit)
        }
        func quantile(_ p: Double) -> Double {
            let h = Double(finite.count - 1) * p
            let lower = Int(h.rounded(.down)), upper = min(lower + 1, finite.count - 1)
            return finite[lower] + (h - Double(lower)) * (finite[upper] - finite[lower])
        }
        return Interval(low: quantile(alpha / 2), high: quantile(1 - alpha / 2), level: level, method: .bootstrap,
                        replicates: finite.count, sampleSize: sampleSize, unit: unit)
    }
}

/// Delete-a-group jackknife over a check's sampling units, for statistics too costly to refit a
/// thousand times (the SVD-based Lines-of-Thought checks refit G ≈ 10 times instead).
///
/// The units are shuffled by a seeded permutation and cut into G groups of near-equal size.
/// With θ̂ the full-sample estimate and θ₍g₎ the estimate without group g, the standard error is
/// √((G − 1)/G · Σ_g (θ₍g₎ − θ̄)²) and the interval θ̂ ± t_{G−1}(1 − α/2)·SE.
public struct GroupJackknife: Sendable {
    public let sampleCount: Int
    public let level: Double
    /// `groups[g]` are the units left out by replicate g, sorted.
    public let groups: [[Int]]

    /// The PCG64 stream the groups' permutation comes from.
    public static let stream: UInt64 = 0x1ACC

    public init(sampleCount: Int, settings: ResamplingSettings, seed: UInt64) {
        precondition(sampleCount >= 2, "GroupJackknife: needs at least two units")
        self.sampleCount = sampleCount
        level = settings.level
        let count = max(2, min(settings.groups, sampleCount))
        var rng = PCG64(seed: seed, stream: Self.stream)
        let order = rng.permutation(sampleCount)
        groups = (0..<count).map { g in
            Array(order[(g * sampleCount / count) ..< ((g + 1) * sampleCount / count)]).sorted()
        }
    }

    /// The units kept by replicate g (every unit not in group g), sorted.
    public func kept(_ g: Int) -> [Int] {
        let left = Set(groups[g])
        return (0..<sampleCount).filter { !left.contains($0) }
    }

    /// The Student-t interval of the full-sample `estimate` from the G leave-group-out values.
    public func interval(estimate: Double, replicateValues: [Double], unit: String) -> Interval {
        Self.interval(estimate: estimate, replicateValues: replicateValues, level: level,
                      sampleSize: sampleCount, unit: unit)
    }

    public static func interval(estimate: Double, replicateValues: [Double], level: Double, sampleSize: Int,
                                unit: String) -> Interval {
        let g = Double(replicateValues.count)
        guard replicateValues.count >= 2, estimate.isFinite, replicateValues.allSatisfy(\.isFinite) else {
            return Interval(low: -.infinity, high: .infinity, level: level, method: .jackknife,
                            replicates: replicateValues.count, sampleSize: sampleSize, unit: unit)
        }
        let mean = replicateValues.reduce(0, +) / g
        let spread = replicateValues.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let standardError = ((g - 1) / g * spread).squareRoot()
        let t = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: g - 1)
        return Interval(low: estimate - t * standardError, high: estimate + t * standardError, level: level,
                        method: .jackknife, replicates: replicateValues.count, sampleSize: sampleSize, unit: unit)
    }
}

/// Intervals that need no resampling.
public enum ExactIntervals {
    /// A Student-t interval for the mean of k cross-validation fold scores: mean ± t_{k−1}·sd/√k.
    /// (It treats the folds as independent, which they are not quite; it is the usual yardstick.)
    public static func folds(_ scores: [Double], level: Double, sampleSize: Int) -> Interval {
        let k = Double(scores.count)
        guard scores.count >= 2, scores.allSatisfy(\.isFinite) else {
            return Interval(low: -.infinity, high: .infinity, level: level, method: .folds,
                            replicates: scores.count, sampleSize: sampleSize, unit: "folds")
        }
        let mean = scores.reduce(0, +) / k
        let sd = (scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (k - 1)).squareRoot()
        let half = StudentT.quantile(0.5 + level / 2, degreesOfFreedom: k - 1) * sd / k.squareRoot()
        return Interval(low: mean - half, high: mean + half, level: level, method: .folds,
                        replicates: scores.count, sampleSize: sampleSize, unit: "folds")
    }

    /// The Clopper–Pearson interval of a proportion `successes / trials`, e.g. the Monte Carlo
    /// error of a permutation p-value.
    public static func binomial(successes: Int, trials: Int, level: Double, sampleSize: Int, unit: String) -> Interval {
        precondition(trials > 0 && successes >= 0 && successes <= trials, "binomial: \(successes) of \(trials)")
        let alpha = 1 - level
        let k = Double(successes), n = Double(trials)
        let low = successes == 0 ? 0 : BetaFunction.quantile(alpha / 2, a: k, b: n - k + 1)
        let high = successes == trials ? 1 : BetaFunction.quantile(1 - alpha / 2, a: k + 1, b: n - k)
        return Interval(low: low, high: high, level: level, method: .binomial, replicates: trials,
                        sampleSize: sampleSize, unit: unit)
    }
}

/// The Student-t distribution's quantile function.
public enum StudentT {
    /// The p-quantile of Student's t with ν degrees of freedom (0 < p < 1, ν > 0), by bisection on
    /// the CDF F(t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, to 1e-12.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "StudentT.quantile(\(p), ν = \(nu))")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        func cdf(_ t: Double) -> Double { 1 - 0.5 * BetaFunction.regularizedIncomplete(nu / (nu + t * t), a: nu / 2, b: 0.5) }
        var low = 0.0, high = 1.0
        while cdf(high) < p { high *= 2 }
        for _ in 0..<200 where high - low > 1e-12 * max(1, high) {
            let mid = (low + high) / 2
            if cdf(mid) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}

/// The regularized incomplete beta function and its inverse.
public enum BetaFunction {
    /// I_x(a, b), by the continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where that converges faster.
    public static func regularizedIncomplete(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncomplete(1 - x, a: b, b: a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var fraction = d
        for m in 1...300 {
            let m = Double(m)
            for numerator in [m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                              -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))] {
                d = 1 + numerator * d
                if abs(d) < tiny { d = tiny }
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                d = 1 / d
                fraction *= c * d
            }
            if abs(c * d - 1) < 1e-15 { break }
        }
        return exp(logFront) * fraction / a
    }

    /// The p-quantile of the Beta(a, b) distribution, by bisection on I_x(a, b) to 1e-14.
    public static func quantile(_ p: Double, a: Double, b: Double) -> Double {
        var low = 0.0, high = 1.0
        for _ in 0..<200 where high - low > 1e-14 {
            let mid = (low + high) / 2
            if regularizedIncomplete(mid, a: a, b: b) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
