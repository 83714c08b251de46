import Analysis
import Evidence

/// The vocabulary shared by every claim check and the harness that runs them.
///
/// A claim turns one finding of a paper into an executable check: it reads residual
/// streams through ``ClaimResources``, computes metrics in Float64, and returns a
/// ``ClaimOutcome`` whose verdict follows the pass criteria of `shared/claims/README.md`.
/// The harness runs each claim on the suite's model and on every negative control the
/// suite names; a control is expected to come out ``Verdict/refuted``.

/// One recorded number. Per-layer curves are several metrics with the same name and a `layer`.
public struct Metric: Codable, Sendable, Equatable {
    public var name: String
    public var layer: Int?
    public var unit: String
    public var value: Double
    /// The resampling interval of a statistic a criterion reads or a check reports as its result.
    public var interval: Interval?
    /// Raw repetitions, for timing metrics only.
    public var samples: [Double]?

    public init(_ name: String, layer: Int? = nil, unit: String = "", value: Double, interval: Interval? = nil,
                samples: [Double]? = nil) {
        self.name = name
        self.layer = layer
        self.unit = unit
        self.value = value
        self.interval = interval
        self.samples = samples
    }

    /// `name` or `name[layer]`: the key a metric is recorded and compared under.
    public var key: String { layer.map { "\(name)[\($0)]" } ?? name }
}

/// What a claim run returns: its metrics (the statistics its criteria read carry intervals) and
/// notes. The claim does not judge itself: ``Claim/judge(_:subject:overrides:)`` applies the
/// criteria it declares, so every check follows the same verdict rule (claims spec §0.8).
public struct ClaimOutcome: Sendable, Equatable {
    public var metrics: [Metric]
    public var notes: [String]
    /// Whether the criteria gate the verdict (the spec marks some checks, or subjects, informational).
    public var policy: VerdictPolicy

    public init(metrics: [Metric], notes: [String] = [], policy: VerdictPolicy = .gated) {
        self.metrics = metrics
        self.notes = notes
        self.policy = policy
    }

    /// Recorded and judged, never gated.
    public init(metrics: [Metric], notes: [String] = [], informational: Bool) {
        self.init(metrics: metrics, notes: notes, policy: informational ? .informational : .gated)
    }

    /// The metric recorded under `key` (`name` or `name[layer]`).
    public func metric(_ key: String) -> Metric? { metrics.first { $0.key == key } }
}

/// A claim's verdict on one subject with the criteria it rests on.
public struct Judgement: Sendable, Equatable {
    public var verdict: Verdict
    public var criteria: [Criterion]

    public init(verdict: Verdict, criteria: [Criterion]) {
        self.verdict = verdict
        self.criteria = criteria
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
/// how to sample the corpus, how to resample it, and the resources (models, corpora) the
/// harness prepared.
public struct ClaimContext: Sendable {
    public var parameters: ClaimParameters
    public var seed: UInt64
    public var subject: Subject
    public var resources: any ClaimResources
    public var sampling: Sampling?
    /// Coverage, replicates and groups of every interval (the suite's `resampling:`).
    public var resampling: ResamplingSettings
    /// Observes long work (label, done, total), e.g. forward passes over a corpus; never changes results.
    public var progress: (@Sendable (_ label: String, _ done: Int, _ total: Int) -> Void)?

    public init(parameters: ClaimParameters, seed: UInt64, subject: Subject, resources: any ClaimResources,
                sampling: Sampling? = nil, resampling: ResamplingSettings = .standard,
                progress: (@Sendable (_ label: String, _ done: Int, _ total: Int) -> Void)? = nil) {
        self.parameters = parameters
        self.seed = seed
        self.subject = subject
        self.resources = resources
        self.sampling = sampling
        self.resampling = resampling
        self.progress = progress
    }

    /// The bootstrap over `count` sampling units for this check: the same resamples for every
    /// subject of the check, so a model and its control are compared on paired resamples.
    public func bootstrap(_ count: Int) -> Bootstrap {
        let bootstrap = Bootstrap(sampleCount: count, settings: resampling, seed: seed)
        resources.record(RecordedDraw(
            name: "bootstrap_n\(count)", summary: "bootstrap resamples: row r holds the \(count) unit indices replicate r drew (sorted)",
            seed: seed, stream: Bootstrap.stream,
            values: .indices(shape: [bootstrap.replicates, count], bootstrap.indices.flatMap { $0 })))
        return bootstrap
    }

    /// The delete-a-group jackknife over `count` sampling units for this check.
    public func jackknife(_ count: Int) -> GroupJackknife {
        let jackknife = GroupJackknife(sampleCount: count, settings: resampling, seed: seed)
        resources.record(RecordedDraw(
            name: "jackknife_groups_n\(count)", summary: "delete-a-group jackknife: entry n is the group unit n belongs to (replicate g leaves group g out)",
            seed: seed, stream: GroupJackknife.stream,
            values: .indices(shape: [count], {
                var group = [Int](repeating: 0, count: count)
                for (g, members) in jackknife.groups.enumerated() { for n in members { group[n] = g } }
                return group
            }())))
        return jackknife
    }
}

/// A parameter a suite may pass to a claim, with its type; anything else is refused when the
/// suite is parsed.
public struct ParameterSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case int, double, string, bool, ints, doubles, strings

        /// Whether `value` has this kind (an integer is accepted where a real number is wanted).
        public func accepts(_ value: ParameterValue) -> Bool {
            switch (self, value) {
            case (.int, .int), (.double, .int), (.double, .double), (.string, .string), (.bool, .bool): return true
            case (.ints, .list(let items)): return items.allSatisfy { if case .int = $0 { true } else { false } }
            case (.doubles, .list(let items)):
                return items.allSatisfy { switch $0 { case .int, .double: true; default: false } }
            case (.strings, .list(let items)): return items.allSatisfy { if case .string = $0 { true } else { false } }
            default: return false
            }
        }

        /// How a suite writes it, for errors.
        public var spelling: String {
            switch self {
            case .int: "an integer"
            case .double: "a number"
            case .string: "a string"
            case .bool: "true or false"
            case .ints: "a list of integers"
            case .doubles: "a list of numbers"
            case .strings: "a list of strings"
            }
        }
    }

    public var name: String
    public var kind: Kind
    /// What it sets, and its default.
    public var summary: String

    public init(_ name: String, _ kind: Kind, _ summary: String) {
        self.name = name
        self.kind = kind
        self.summary = summary
    }
}

/// The fewest sampling units a check can decide anything from: `max(absolute, ⌈perWidth·D⌉ + plus)`
/// sequences for a model of width D.
public struct SampleRequirement: Sendable, Hashable {
    /// How the sequences are drawn from the corpus (the harness checks the corpus has enough before any work).
    public var rule: SequenceRule
    public var absolute: Int
    public var perWidth: Double
    /// Added to the width-proportional part (e.g. an evaluation set on top of a basis set).
    public var plus: Int
    /// Why, for the refusal message.
    public var reason: String

    public init(_ rule: SequenceRule, absolute: Int, perWidth: Double = 0, plus: Int = 0, reason: String) {
        self.rule = rule
        self.absolute = absolute
        self.perWidth = perWidth
        self.plus = plus
        self.reason = reason
    }

    public func minimum(modelWidth: Int) -> Int {
        max(absolute, perWidth > 0 ? Int((perWidth * Double(modelWidth)).rounded(.up)) + plus : 0)
    }
}

/// An executable check of one finding.
///
/// A claim declares what it judges (``criteria``), what it accepts from a suite
/// (``parameters``, ``sampleRequirement``) and how its intervals are made (``uncertainty``);
/// ``run(_:)`` records metrics, with intervals on the statistics the criteria read, and
/// ``judge(_:subject:overrides:)`` turns them into a verdict by the one rule of §0.8.
public protocol Claim: Sendable {
    /// The spec's identifier, e.g. `TD-1`.
    var id: String { get }
    /// One line: what the claim says.
    var title: String { get }
    /// The paper the claim comes from.
    var source: String { get }
    /// The controls this claim knows how to run, e.g. `["random-init"]`.
    var controls: [String] { get }
    /// Every criterion the claim can judge (names unique); suites override thresholds by name.
    var criteria: [CriterionDefinition] { get }
    /// The parameters a suite may pass.
    var parameters: [ParameterSpec] { get }
    /// The fewest sequences its `sampling: count` may ask for; nil when the check samples nothing.
    var sampleRequirement: SampleRequirement? { get }
    /// How the intervals are computed and why that way (`rbench explain`).
    var uncertainty: String { get }
    /// The criteria judged on `subject` (by default all of them).
    func criteria(for subject: Subject) -> [CriterionDefinition]
    /// Runs the check on `context.subject`.
    func run(_ context: ClaimContext) throws -> ClaimOutcome
}

extension Claim {
    public var parameters: [ParameterSpec] { [] }
    public func criteria(for subject: Subject) -> [CriterionDefinition] { criteria }

    /// The criteria for `subject` judged on the outcome's metrics (with suite `overrides` by
    /// criterion name), and the verdict they give.
    ///
    /// Throws ``ClaimError/missingStatistic(claim:criterion:statistic:)`` when a criterion reads a
    /// metric the run did not record: a defect of the check, never a silent pass.
    public func judge(_ outcome: ClaimOutcome, subject: Subject,
                      overrides: [String: ThresholdOverride] = [:]) throws -> Judgement {
        let judged = try criteria(for: subject).map { definition in
            guard let metric = outcome.metric(definition.statistic) else {
                throw ClaimError.missingStatistic(claim: id, criterion: definition.name, statistic: definition.statistic)
            }
            return definition.judge(observed: metric.value, interval: metric.interval, override: overrides[definition.name])
        }
        return Judgement(verdict: VerdictRule.verdict(judged, policy: outcome.policy), criteria: judged)
    }
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
