/// The vocabulary of a scientific verdict, shared by the claims that produce it and the store,
/// baselines and reports that keep and show it. Nothing here computes; it only says what a
/// verdict is made of (claims spec §0.8).

/// The scientific verdict of one claim run on one subject.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// Every criterion holds over its whole interval.
    case supported
    /// At least one criterion fails over its whole interval.
    case refuted
    /// No criterion fails, but at least one is undecided: its interval straddles the threshold.
    case inconclusive
    /// The spec marks the check informational: recorded with its intervals, never gated.
    case informational
    /// The check could not be computed (bad input, numerical failure).
    case error
    /// Not a verdict: the check runs a model (an intervention, a resume, a readout) and the run had
    /// recorded states only (`rbench run --states`). Nothing was computed and nothing failed.
    case needsEngine = "needs_engine"

    /// Supported and refuted: the verdicts a baseline may hold a run to.
    public var isDecisive: Bool { self == .supported || self == .refuted }

    /// Whether the check was computed at all (everything but ``needsEngine``).
    public var wasComputed: Bool { self != .needsEngine }
}

/// How a statistic is compared with its threshold.
public enum Comparison: String, Codable, Sendable, CaseIterable {
    case atLeast = ">="
    case atMost = "<="
    case greaterThan = ">"
    case lessThan = "<"

    /// The mathematical symbol, for summaries.
    public var symbol: String {
        switch self {
        case .atLeast: "≥"
        case .atMost: "≤"
        case .greaterThan: ">"
        case .lessThan: "<"
        }
    }

    /// Whether `value` is on the passing side of `threshold`.
    public func passes(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .atLeast: value >= threshold
        case .atMost: value <= threshold
        case .greaterThan: value > threshold
        case .lessThan: value < threshold
        }
    }
}

/// What a criterion concluded.
public enum CriterionOutcome: String, Codable, Sendable, CaseIterable {
    /// The point estimate and the whole interval are on the passing side.
    case held
    /// The point estimate and the whole interval are on the failing side.
    case failed
    /// The interval straddles the threshold (or the statistic could not be computed).
    case undecided
}
