/// A pass criterion as a claim declares it: which recorded statistic it reads, how that is
/// compared with a threshold, and a stable name a suite can override it by.
///
/// ```swift
/// CriterionDefinition("R_min", statistic: "R", .atLeast, 0.7, "median unit correlation R ≥ 0.7")
/// ```
public struct CriterionDefinition: Sendable, Hashable, Codable {
    /// Unique within the claim; suites override thresholds by this name (`criteria: {TD-1: {R_min: …}}`).
    public var name: String
    /// The metric key the criterion reads (`name` or `name[layer]`).
    public var statistic: String
    public var comparison: Comparison
    public var threshold: Double
    /// What the criterion says, in the spec's words, without the threshold's number.
    public var summary: String

    public init(_ name: String, statistic: String, _ comparison: Comparison, _ threshold: Double, _ summary: String) {
        self.name = name
        self.statistic = statistic
        self.comparison = comparison
        self.threshold = threshold
        self.summary = summary
    }

    /// The criterion judged on an observed value and its interval (nil: a point estimate only).
    ///
    /// Held when the point estimate and both ends of the interval are on the passing side; failed
    /// when all three are on the failing side; undecided otherwise, and always when the
    /// statistic is NaN or the interval is unbounded.
    public func judge(observed: Double, interval: Interval?, override: ThresholdOverride? = nil) -> Criterion {
        let threshold = override?.value ?? self.threshold
        let outcome: CriterionOutcome
        if observed.isNaN || interval.map({ $0.low.isNaN || $0.high.isNaN || !$0.reachesNominalCoverage }) == true {
            // Too few units for the interval's coverage decides nothing either way.
            outcome = .undecided
        } else {
            let points = [observed, interval?.low ?? observed, interval?.high ?? observed]
            let passing = points.filter { comparison.passes($0, threshold) }.count
            outcome = passing == points.count ? .held : passing == 0 ? .failed : .undecided
        }
        return Criterion(name: name, statistic: statistic, comparison: comparison, threshold: threshold,
                         observed: observed, interval: interval, outcome: outcome, summary: summary, override: override)
    }
}

/// A suite's change of one criterion's threshold for its model, with the reason it must give.
public struct ThresholdOverride: Sendable, Hashable, Codable {
    public var value: Double
    public var reason: String
    /// The claim's own threshold, kept so every report can show what was changed.
    public var original: Double

    public init(value: Double, reason: String, original: Double) {
        self.value = value
        self.reason = reason
        self.original = original
    }
}

/// A judged criterion: the one type the run file, the database, baselines and every report read.
public struct Criterion: Sendable, Equatable, Codable {
    public var name: String
    public var statistic: String
    public var comparison: Comparison
    /// The threshold applied (the override's value when there is one).
    public var threshold: Double
    public var observed: Double
    /// Nil when the statistic is not resampled (a count, a fixed property).
    public var interval: Interval?
    public var outcome: CriterionOutcome
    public var summary: String
    public var override: ThresholdOverride?

    public init(name: String, statistic: String, comparison: Comparison, threshold: Double, observed: Double,
                interval: Interval?, outcome: CriterionOutcome, summary: String, override: ThresholdOverride? = nil) {
        self.name = name
        self.statistic = statistic
        self.comparison = comparison
        self.threshold = threshold
        self.observed = observed
        self.interval = interval
        self.outcome = outcome
        self.summary = summary
        self.override = override
    }

    /// `statistic ≥ threshold`, e.g. `R ≥ 0.7`.
    public var rule: String { "\(statistic) \(comparison.symbol) \(Interval.format(threshold))" }

    /// `0.840 [0.826, 0.851]`: the observed value with its interval.
    public var observedWithInterval: String {
        Interval.format(observed) + (interval.map { " [\(Interval.format($0.low)), \(Interval.format($0.high))]" } ?? "")
    }

    // The run file spells the interval `[low, high]` next to how it was obtained.
    enum CodingKeys: String, CodingKey {
        case name, statistic, comparison, threshold, observed, interval, level, method, replicates
        case sampleSize = "n", unit, outcome, summary, override
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        statistic = try c.decode(String.self, forKey: .statistic)
        comparison = try c.decode(Comparison.self, forKey: .comparison)
        threshold = try c.decode(Double.self, forKey: .threshold)
        observed = try c.decode(Double.self, forKey: .observed)
        outcome = try c.decode(CriterionOutcome.self, forKey: .outcome)
        summary = try c.decode(String.self, forKey: .summary)
        override = try c.decodeIfPresent(ThresholdOverride.self, forKey: .override)
        if let bounds = try c.decodeIfPresent([Double].self, forKey: .interval) {
            guard bounds.count == 2 else {
                throw DecodingError.dataCorruptedError(forKey: .interval, in: c, debugDescription: "an interval is [low, high]")
            }
            interval = Interval(low: bounds[0], high: bounds[1], level: try c.decode(Double.self, forKey: .level),
                                method: try c.decode(IntervalMethod.self, forKey: .method),
                                replicates: try c.decode(Int.self, forKey: .replicates),
                                sampleSize: try c.decode(Int.self, forKey: .sampleSize),
                                unit: try c.decode(String.self, forKey: .unit))
        } else {
            interval = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(statistic, forKey: .statistic)
        try c.encode(comparison, forKey: .comparison)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(observed, forKey: .observed)
        if let interval {
            try c.encode([interval.low, interval.high], forKey: .interval)
            try c.encode(interval.level, forKey: .level)
            try c.encode(interval.method, forKey: .method)
            try c.encode(interval.replicates, forKey: .replicates)
            try c.encode(interval.sampleSize, forKey: .sampleSize)
            try c.encode(interval.unit, forKey: .unit)
        }
        try c.encode(outcome, forKey: .outcome)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(override, forKey: .override)
    }
}

/// Whether a check's criteria gate its verdict.
public enum VerdictPolicy: String, Sendable, Codable {
    /// The verdict rule decides: supported, refuted or inconclusive.
    case gated
    /// Recorded and judged, never gated: the verdict is `informational`.
    case informational
    /// An expected failure (xfail): `supported` when every criterion holds, `informational` otherwise.
    case informationalUnlessSupported
    /// Recorded and judged, but the run did not meet a precondition for a verdict (e.g. a training
    /// that did not converge): `inconclusive` whatever the criteria say; the check's notes say why.
    case withheld
}

/// The verdict rule of claims spec §0.8.
public enum VerdictRule {
    /// Refuted if any criterion failed; otherwise inconclusive if any is undecided (or there are
    /// none to decide); otherwise supported. Informational checks keep their judged criteria.
    public static func verdict(_ criteria: [Criterion], policy: VerdictPolicy = .gated) -> Verdict {
        let gated: Verdict
        if criteria.contains(where: { $0.outcome == .failed }) {
            gated = .refuted
        } else if criteria.isEmpty || criteria.contains(where: { $0.outcome == .undecided }) {
            gated = .inconclusive
        } else {
            gated = .supported
        }
        switch policy {
        case .gated: return gated
        case .informational: return .informational
        case .informationalUnlessSupported: return gated == .supported ? .supported : .informational
        case .withheld: return .inconclusive
        }
    }
}
