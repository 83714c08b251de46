import Engine
import Foundation
import Tokenization

/// Where claims get their inputs: the trained model, the random-init control, the tokenizer
/// and corpora. ``ModelResources`` is the real implementation; tests may stub any subset
/// (the defaults throw ``ClaimError/unavailable(_:)``).
public protocol ClaimResources: Sendable {
    /// The model under test (trained weights).
    func trainedModel() throws -> LanguageModel
    /// The same architecture with random weights drawn from the suite's portable generator.
    func randomInitModel() throws -> LanguageModel
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
}

/// A model a claim loads besides the suite's own, with the tokenizer its windows need.
public struct AdditionalModel: Sendable {
    public var model: LanguageModel
    public var tokenizer: any Tokenizer
    /// Where it was loaded from.
    public var url: URL

    public init(model: LanguageModel, tokenizer: any Tokenizer, url: URL) {
        self.model = model
        self.tokenizer = tokenizer
        self.url = url
    }
}

extension ClaimResources {
    public func trainedModel() throws -> LanguageModel { throw ClaimError.unavailable("trained model") }
    public func randomInitModel() throws -> LanguageModel { throw ClaimError.unavailable("random-init model") }
    public func tokenizer() throws -> any Tokenizer { throw ClaimError.unavailable("tokenizer") }
    public func corpusText(_ name: String) throws -> String { throw ClaimError.unavailable("corpus \(name)") }
    public func corpusFormat(_ name: String) -> CorpusFormat { .plain }
    public func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T { try value() }
    public func additionalModel(_ file: String) throws -> AdditionalModel { throw ClaimError.unavailable("model file \(file)") }
}

/// Errors a claim run reports as its `error` verdict.
public enum ClaimError: Error, CustomStringConvertible, Equatable {
    case unavailable(String)
    case unknownControl(claim: String, control: String)
    case insufficientData(String)
    case missingSampling(claim: String)
    case missingStatistic(claim: String, criterion: String, statistic: String)

    public var description: String {
        switch self {
        case .unavailable(let what): "\(what) is not available to this run"
        case .unknownControl(let claim, let control): "\(claim) has no control named '\(control)'"
        case .insufficientData(let reason): "not enough data: \(reason)"
        case .missingSampling(let claim): "\(claim) needs `corpus:` and `sampling:` in its suite entry"
        case .missingStatistic(let claim, let criterion, let statistic):
            "\(claim) criterion \(criterion) reads `\(statistic)`, which the check did not record (a defect of the check)"
        }
    }
}

extension ClaimContext {
    /// The model for this subject: random-init for the `random-init` control, trained otherwise.
    public func model() throws -> LanguageModel {
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
    public var modelTag: String { subject == .control(RandomInitialization.controlName) ? "ri" : "trained" }
}
