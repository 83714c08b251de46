/// The vocabulary shared by every claim check and the harness that runs them.
///
/// A claim turns one finding of a paper into an executable check: it reads residual
/// streams through ``ClaimResources``, computes metrics in Float64, and returns a
/// ``ClaimOutcome`` whose verdict follows the pass criteria of `shared/claims/README.md`.
/// The harness runs each claim on the suite's model and on every negative control the
/// suite names; a control is expected to come out ``Verdict/refuted``.

/// The scientific verdict of one claim run.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// Every pass criterion held.
    case supported
    /// At least one pass criterion failed.
    case refuted
    /// The spec marks the check informational (recorded, never gated).
    case informational
    /// The check could not be computed (bad input, numerical failure).
    case error
}

/// One recorded number. Per-layer curves are several metrics with the same name and a `layer`.
public struct Metric: Codable, Sendable, Equatable {
    public var name: String
    public var layer: Int?
    public var unit: String
    public var value: Double
    /// Raw repetitions, for timing metrics only.
    public var samples: [Double]?

    public init(_ name: String, layer: Int? = nil, unit: String = "", value: Double, samples: [Double]? = nil) {
        self.name = name
        self.layer = layer
        self.unit = unit
        self.value = value
        self.samples = samples
    }

    /// `name` or `name[layer]`: the key a metric is recorded and compared under.
    public var key: String { layer.map { "\(name)[\($0)]" } ?? name }
}

/// One pass criterion of a claim, with what was observed.
public struct Criterion: Codable, Sendable, Equatable {
    public var description: String
    public var observed: Double
    public var passed: Bool

    public init(_ description: String, observed: Double, passed: Bool) {
        self.description = description
        self.observed = observed
        self.passed = passed
    }
}

/// What a claim run returns.
public struct ClaimOutcome: Sendable, Equatable {
    public var verdict: Verdict
    public var metrics: [Metric]
    public var criteria: [Criterion]
    public var notes: [String]

    public init(verdict: Verdict, metrics: [Metric], criteria: [Criterion] = [], notes: [String] = []) {
        self.verdict = verdict
        self.metrics = metrics
        self.criteria = criteria
        self.notes = notes
    }

    /// Supported when every criterion passed, refuted otherwise.
    public init(judging criteria: [Criterion], metrics: [Metric], notes: [String] = []) {
        self.init(verdict: criteria.allSatisfy(\.passed) ? .supported : .refuted,
                  metrics: metrics, criteria: criteria, notes: notes)
    }
}

/// What a claim is run on: the suite's model, or one of the negative controls.
public enum Subject: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The model the suite names (trained weights).
    case model
    /// A negative control by name, e.g. `random-init` or `shuffle`.
    case control(String)

    public var description: String {
        switch self {
        case .model: "model"
        case .control(let name): name
        }
    }
}

/// A value from a suite's `params:` block.
public enum ParameterValue: Sendable, Hashable, Codable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case list([ParameterValue])
}

/// The parameters a suite passes to one claim, with typed accessors.
public struct ClaimParameters: Sendable, Hashable {
    public var values: [String: ParameterValue]

    public init(_ values: [String: ParameterValue] = [:]) { self.values = values }

    public func int(_ key: String, default fallback: Int) -> Int {
        if case .int(let v)? = values[key] { return v }
        return fallback
    }

    public func double(_ key: String, default fallback: Double) -> Double {
        switch values[key] {
        case .double(let v)?: return v
        case .int(let v)?: return Double(v)
        default: return fallback
        }
    }

    public func string(_ key: String, default fallback: String) -> String {
        if case .string(let v)? = values[key] { return v }
        return fallback
    }

    public func bool(_ key: String, default fallback: Bool) -> Bool {
        if case .bool(let v)? = values[key] { return v }
        return fallback
    }

    public func ints(_ key: String, default fallback: [Int]) -> [Int] {
        guard case .list(let items)? = values[key] else { return fallback }
        let ints = items.compactMap { item -> Int? in
            if case .int(let v) = item { return v }
            return nil
        }
        return ints.count == items.count ? ints : fallback
    }

    public func doubles(_ key: String, default fallback: [Double]) -> [Double] {
        guard case .list(let items)? = values[key] else { return fallback }
        let doubles = items.compactMap { item -> Double? in
            switch item {
            case .double(let v): return v
            case .int(let v): return Double(v)
            default: return nil
            }
        }
        return doubles.count == items.count ? doubles : fallback
    }
}

/// How a claim draws its sequences from a corpus (the suite's `corpus:` and `sampling:`).
public struct Sampling: Sendable, Hashable, Codable {
    /// Corpus name as declared in the suite's `corpora:` block.
    public var corpus: String
    public var count: Int
    public var tokens: Int

    public init(corpus: String, count: Int, tokens: Int) {
        self.corpus = corpus
        self.count = count
        self.tokens = tokens
    }
}

/// Everything a claim run may read: the parameters and seed from the suite, the subject,
/// how to sample the corpus, and the resources (models, corpora) the harness prepared.
public struct ClaimContext: Sendable {
    public var parameters: ClaimParameters
    public var seed: UInt64
    public var subject: Subject
    public var resources: any ClaimResources
    public var sampling: Sampling?
    /// Observes long work (label, done, total), e.g. forward passes over a corpus; never changes results.
    public var progress: (@Sendable (_ label: String, _ done: Int, _ total: Int) -> Void)?

    public init(parameters: ClaimParameters, seed: UInt64, subject: Subject, resources: any ClaimResources,
                sampling: Sampling? = nil, progress: (@Sendable (_ label: String, _ done: Int, _ total: Int) -> Void)? = nil) {
        self.parameters = parameters
        self.seed = seed
        self.subject = subject
        self.resources = resources
        self.sampling = sampling
        self.progress = progress
    }
}

/// An executable check of one finding.
public protocol Claim: Sendable {
    /// The spec's identifier, e.g. `TD-1`.
    var id: String { get }
    /// One line: what the claim says.
    var title: String { get }
    /// The paper the claim comes from.
    var source: String { get }
    /// The controls this claim knows how to run, e.g. `["random-init"]`.
    var controls: [String] { get }
    /// Runs the check on `context.subject`.
    func run(_ context: ClaimContext) throws -> ClaimOutcome
}

/// The claims this build knows, by id.
public struct ClaimRegistry: Sendable {
    public private(set) var claims: [String: any Claim]

    public init(_ claims: [any Claim] = []) {
        self.claims = Dictionary(claims.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    public mutating func register(_ claim: any Claim) { claims[claim.id] = claim }

    public func claim(_ id: String) -> (any Claim)? { claims[id] }

    public var ids: [String] { claims.keys.sorted() }
}
