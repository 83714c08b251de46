import Foundation

/// How an interval was obtained from a check's own sampling unit (claims spec §0.8).
public enum IntervalMethod: String, Codable, Sendable, CaseIterable {
    /// Percentile bootstrap: the statistic recomputed on resamples (with replacement) of the units.
    case bootstrap
    /// Delete-a-group jackknife: the statistic refitted with each of G groups of units left out;
    /// a Student-t interval around the full-sample estimate with the jackknife standard error.
    case jackknife
    /// A Student-t interval over the accuracies of the cross-validation folds.
    case folds
    /// Clopper–Pearson interval of a Monte Carlo proportion (e.g. a permutation test's p).
    case binomial
}

extension IntervalMethod {
    /// The fewest sampling units from which an interval of this kind is trusted to come near its
    /// nominal coverage. A percentile bootstrap of a handful of units resamples a handful of values:
    /// its interval is too narrow (at n = 6 it can even exclude the point estimate), and the usual
    /// advice is n ≥ 20 or more (Efron & Tibshirani 1993; Hesterberg 2015). Below it a criterion stays
    /// undecided whatever the interval says. The jackknife and fold intervals widen with Student's t,
    /// and the binomial one is exact, so they need no floor.
    public var minimumSampleSize: Int { self == .bootstrap ? 20 : 1 }
}

/// A confidence interval for one statistic, with what it was computed from.
///
/// An interval whose endpoints are infinite says the resampling could not bound the statistic
/// (too many replicates were undefined); any criterion that reads it is undecided.
public struct Interval: Sendable, Equatable, Codable, CustomStringConvertible {
    public var low: Double
    public var high: Double
    /// Nominal coverage, e.g. 0.95.
    public var level: Double
    public var method: IntervalMethod
    /// Bootstrap replicates that gave a finite value, jackknife groups, folds or Monte Carlo draws.
    public var replicates: Int
    /// How many sampling units the statistic was computed from.
    public var sampleSize: Int
    /// The sampling unit: `prompts`, `trajectories`, `pairs`, `grid points`, `folds`, …
    public var unit: String

    public init(low: Double, high: Double, level: Double, method: IntervalMethod, replicates: Int,
                sampleSize: Int, unit: String) {
        self.low = low
        self.high = high
        self.level = level
        self.method = method
        self.replicates = replicates
        self.sampleSize = sampleSize
        self.unit = unit
    }

    enum CodingKeys: String, CodingKey {
        case low, high, level, method, replicates, sampleSize = "n", unit
    }

    /// Whether both endpoints are finite.
    public var isBounded: Bool { low.isFinite && high.isFinite }

    /// Whether it was computed from enough units to be read at its nominal level (``IntervalMethod/minimumSampleSize``).
    public var reachesNominalCoverage: Bool { sampleSize >= method.minimumSampleSize }

    public var description: String {
        "[\(Self.format(low)), \(Self.format(high))] (\(Int((level * 100).rounded())) % \(method.rawValue), n = \(sampleSize) \(unit))"
    }

    /// Four significant digits, for summaries.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let magnitude = Swift.abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            return String(format: "%.3e", value)
        }
        let digits = max(0, 3 - Int((magnitude).log10Floor))
        return String(format: "%.\(digits)f", value)
    }
}

private extension Double {
    var log10Floor: Double {
        var exponent = 0.0, x = self
        while x >= 10 { x /= 10; exponent += 1 }
        while x < 1 { x *= 10; exponent -= 1 }
        return exponent
    }
}
