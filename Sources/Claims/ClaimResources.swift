import Engine
import Foundation
import Tokenization

/// Where claims get their inputs: the trained model, the random-init control, the tokenizer
/// and corpora. ``ModelResources`` is the real implementation; tests may stub any subset
/// (the defaults throw ``ClaimError/unavailable(_:)``).
public protocol ClaimResources: Sendable {
    /// The model under test (trained weights), on whichever engine the run uses.
    func trainedModel() throws -> any ResidualModel
    /// The same architecture with random weights drawn from the suite's portable generator.
    func randomInitModel() throws -> any ResidualModel
    func tokenizer() throws -> any Tokenizer
    /// The text of a corpus named in the suite.
    func corpusText(_ name: String) throws -> String
    /// How that corpus lays out its text (the suite's `format:`).
    func corpusFormat(_ name: String) -> CorpusFormat
    /// Computes `value` once per key and resources object (captures shared by several claims).
    func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T
    /// Another GGUF model and its tokenizer, for checks that compare models (SR-2): `file` is a
    /// path relative to the folder the suite's model was found in (the models directory), or absolute.
    func additionalModel(_ file: String) throws -> AdditionalModel

    /// The last-position states named by `key`: made by `capture` (once: memoized) unless the
    /// resources hold them already, e.g. states saved by an earlier run or made by another tool.
    func lastPositionStates(_ key: StateSetKey, capture: () throws -> LastPositionStates) throws -> LastPositionStates
    /// The token sequences named by `key`, drawn by `draw` (memoized) unless the resources hold them.
    func sequences(_ key: SequenceSetKey, draw: () throws -> [[Int]]) throws -> [[Int]]
    /// Depth, width and vocabulary of a subject's model, without running it.
    func modelShape(_ role: ModelRole) throws -> ModelShape
    /// Observes a random draw a check made (a resampling or a null), for `rbench run --save-states`;
    /// the value is only computed when someone records it.
    func record(_ draw: @autoclosure () -> RecordedDraw)
}

/// Loads the suite's models on an engine other than this build's own (`rbench run --engine`).
public protocol ModelEngine: Sendable {
    /// The model in a GGUF file, as the engine loads it.
    func load(gguf url: URL) throws -> any ResidualModel
    /// The random-init control like `trained`, every matrix drawn by `fill` in
    /// ``RandomFillMatrix/order(_:)`` (norm gains 1, biases 0, tied head).
    func randomlyInitialized(like trained: any ResidualModel, origin: String,
                             fill: (inout [Float]) -> Void) throws -> any ResidualModel
}

/// A model a claim loads besides the suite's own, with the tokenizer its windows need.
public struct AdditionalModel: Sendable {
    public var model: any ResidualModel
    public var tokenizer: any Tokenizer
    /// Where it was loaded from.
    public var url: URL

    public init(model: any ResidualModel, tokenizer: any Tokenizer, url: URL) {
        self.model = model
        self.tokenizer = tokenizer
        self.url = url
    }
}

extension ClaimResources {
    public func trainedModel() throws -> any ResidualModel { throw ClaimError.unavailable("trained model") }
    public func randomInitModel() throws -> any ResidualModel { throw ClaimError.unavailable("random-init model") }
    public func tokenizer() throws -> any Tokenizer { throw ClaimError.unavailable("tokenizer") }
    public func corpusText(_ name: String) throws -> String { throw ClaimError.unavailable("corpus \(name)") }
    public func corpusFormat(_ name: String) -> CorpusFormat { .plain }
    public func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T { try value() }
    public func additionalModel(_ file: String) throws -> AdditionalModel { throw ClaimError.unavailable("model file \(file)") }
    public func lastPositionStates(_ key: StateSetKey, capture: () throws -> LastPositionStates) throws -> LastPositionStates {
        try memoized(key.memoKey, capture)
    }
    public func sequences(_ key: SequenceSetKey, draw: () throws -> [[Int]]) throws -> [[Int]] {
        try memoized(key.memoKey, draw)
    }
    /// The random-init control shares the trained model's architecture, so both read its configuration.
    public func modelShape(_ role: ModelRole) throws -> ModelShape { ModelShape(try trainedModel().configuration) }
    public func record(_ draw: @autoclosure () -> RecordedDraw) {}
}

/// Errors a claim run reports as its `error` verdict.
public enum ClaimError: Error, CustomStringConvertible, Equatable {
    case unavailable(String)
    case unknownControl(claim: String, control: String)
    case insufficientData(String)
    case missingSampling(claim: String)
    case missingStatistic(claim: String, criterion: String, statistic: String)
    /// The check runs a model (an intervention, a resume, a readout) and the run has recorded states
    /// only: not an error of the check, and no verdict either (``Verdict/needsEngine``).
    case needsEngine(String)

    public var description: String {
        switch self {
        case .unavailable(let what): "\(what) is not available to this run"
        case .unknownControl(let claim, let control): "\(claim) has no control named '\(control)'"
        case .insufficientData(let reason): "not enough data: \(reason)"
        case .missingSampling(let claim): "\(claim) needs `corpus:` and `sampling:` in its suite entry"
        case .missingStatistic(let claim, let criterion, let statistic):
            "\(claim) criterion \(criterion) reads `\(statistic)`, which the check did not record (a defect of the check)"
        case .needsEngine(let what): "needs an engine: \(what)"
        }
    }
}

extension ClaimContext {
    /// The model for this subject: random-init for the `random-init` control, trained otherwise.
    public func model() throws -> any ResidualModel {
        subject == .control(RandomInitialization.controlName) ? try resources.randomInitModel() : try resources.trainedModel()
    }

    /// The sampling block, required.
    public func requireSampling(_ claim: String) throws -> Sampling {
        guard let sampling else { throw ClaimError.missingSampling(claim: claim) }
        return sampling
    }

    /// Throws unless the subject is the model or one of `known` controls.
    public func requireKnownSubject(_ claim: any Claim) throws {
        if case .control(let name) = subject, !claim.controls.contains(name) {
            throw ClaimError.unknownControl(claim: claim.id, control: name)
        }
    }

    /// `corpus/count/tokens` of the claim's sampling, for memo keys (`-` without one): every
    /// memoized intermediate that depends on the sequences must carry it.
    public var samplingKey: String { sampling.map { "\($0.corpus)/\($0.count)/\($0.tokens)" } ?? "-" }

    /// A tag naming the model a subject runs on, for memo keys.
    public var modelTag: String { modelRole.memoTag }

    /// Which model this subject runs on.
    public var modelRole: ModelRole { subject == .control(RandomInitialization.controlName) ? .randomInit : .trained }
}
