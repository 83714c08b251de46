import Analysis
import Engine

/// The names of what a check reads: sets of sequences and of captured states, and its random draws.
/// They let a run save exactly the states each check used (`rbench run --save-states`) and another
/// run read them back instead of running a model (`rbench run --states`).

/// Which model a set of states came from.
public enum ModelRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// The suite's model, trained weights.
    case trained
    /// The random-init control (claims spec §0.3).
    case randomInit = "random-init"

    /// The spelling of the memo keys (`trained`, `ri`).
    var memoTag: String { self == .trained ? "trained" : "ri" }
}

/// Depth, width and vocabulary: what a check may ask of a model before (or instead of) running it.
public struct ModelShape: Sendable, Hashable, Codable {
    public var blockCount: Int
    public var modelWidth: Int
    public var vocabularySize: Int

    public init(blockCount: Int, modelWidth: Int, vocabularySize: Int) {
        self.blockCount = blockCount
        self.modelWidth = modelWidth
        self.vocabularySize = vocabularySize
    }

    public init(_ configuration: ModelConfiguration) {
        self.init(blockCount: configuration.blockCount, modelWidth: configuration.modelWidth,
                  vocabularySize: configuration.vocabularySize)
    }
}

/// Names the sequences a sampling rule draws from a corpus.
public struct SequenceSetKey: Sendable, Hashable, Codable {
    public var rule: SequenceRule
    public var corpus: String
    public var count: Int
    public var tokens: Int
    /// The draw seed of the `windows` rule; nil for paragraphs and chunks, taken in file order.
    public var seed: UInt64?

    public init(rule: SequenceRule, corpus: String, count: Int, tokens: Int, seed: UInt64?) {
        self.rule = rule
        self.corpus = corpus
        self.count = count
        self.tokens = tokens
        self.seed = seed
    }

    /// `paragraphs-wikitext-200x32` (`-seed1234` for windows): a file-name-safe name.
    public var name: String {
        "\(rule.rawValue)-\(corpus)-\(count)x\(tokens)" + (seed.map { "-seed\($0)" } ?? "")
    }

    var memoKey: String { "sequences/\(rule.rawValue)/\(corpus)/\(count)/\(tokens)" + (seed.map { "/\($0)" } ?? "") }
}

/// Names one set of last-position states: a model's states on a set of sequences.
public struct StateSetKey: Sendable, Hashable, Codable {
    public var model: ModelRole
    public var sequences: SequenceSetKey

    public init(model: ModelRole, sequences: SequenceSetKey) {
        self.model = model
        self.sequences = sequences
    }

    /// `trained-paragraphs-wikitext-200x32`.
    public var name: String { "\(model.rawValue)-\(sequences.name)" }

    var memoKey: String {
        "states/\(model.memoTag)/\(sequences.rule.rawValue)/\(sequences.corpus)/\(sequences.count)/\(sequences.tokens)"
            + (sequences.seed.map { "/\($0)" } ?? "")
    }
}

/// A random draw a check made — a bootstrap's resamples, a jackknife's groups, a null's permutation
/// or rotation — as the values it used, with the generator and seed that made them.
public struct RecordedDraw: Sendable {
    public enum Values: Sendable {
        /// Integers (indices), row-major in `shape`.
        case indices(shape: [Int], [Int])
        /// Reals (e.g. a rotation), row-major in `shape`.
        case reals(shape: [Int], [Double])
    }

    /// Unique within a check and subject, e.g. `bootstrap_n200` or `shuffle_permutation`.
    public var name: String
    /// What the values are, for the manifest.
    public var summary: String
    public var seed: UInt64
    /// The PCG64 stream (nil when the draw is not one stream's output).
    public var stream: UInt64?
    public var values: Values

    public init(name: String, summary: String, seed: UInt64, stream: UInt64?, values: Values) {
        self.name = name
        self.summary = summary
        self.seed = seed
        self.stream = stream
        self.values = values
    }

    /// The generator every draw of this build comes from.
    public static let generator = "pcg64-xslrr (Analysis.PCG64)"
}

extension ClaimContext {
    /// The sequence set this check's sampling draws under `rule`.
    public func sequenceSetKey(_ rule: SequenceRule) throws -> SequenceSetKey {
        let sampling = try requireSampling(rule.rawValue)
        return SequenceSetKey(rule: rule, corpus: sampling.corpus, count: sampling.count, tokens: sampling.tokens,
                              seed: rule == .windows ? seed : nil)
    }

    /// The state set this subject's model gives on the sequences of `rule`.
    public func stateSetKey(_ rule: SequenceRule) throws -> StateSetKey {
        StateSetKey(model: modelRole, sequences: try sequenceSetKey(rule))
    }

    /// Records a null draw of this check (a no-op unless the run saves states).
    public func recordDraw(_ name: String, _ summary: String, stream: UInt64?, indices: @autoclosure () -> [Int]) {
        resources.record(RecordedDraw(name: name, summary: summary, seed: seed, stream: stream, values: {
            let values = indices()
            return .indices(shape: [values.count], values)
        }()))
    }
}
