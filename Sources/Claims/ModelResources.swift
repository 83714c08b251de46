import Engine
import Foundation
import GGUF
import Synchronization
import Tokenization

/// The real ``ClaimResources``: a GGUF model loaded once, its random-init twin built on
/// first use, the tokenizer, corpora by name, and a memo of captures shared by claims.
public final class ModelResources: ClaimResources {
    public let modelURL: URL
    public let corpora: [String: URL]
    public let formats: [String: CorpusFormat]
    public let randomInitialization: RandomInitialization
    /// Where the file models' block matrices live (the random-init twin is always dense).
    public let residency: ResidencyPolicy
    /// Another engine the suite's models run on (`rbench run --engine`); nil: this build's own.
    public let engine: (any ModelEngine)?

    private struct State {
        var file: GGUFFile?
        var trained: LanguageModel?
        var random: LanguageModel?
        var engineTrained: (any ResidualModel)?
        var engineRandom: (any ResidualModel)?
        var tokenizer: (any Tokenizer)?
        var texts: [String: String] = [:]
        var memo: [String: any Sendable] = [:]
        var additional: [String: AdditionalModel] = [:]
    }
    private let state = Mutex(State())

    public init(modelURL: URL, corpora: [String: URL], formats: [String: CorpusFormat] = [:],
                randomInitialization: RandomInitialization, residency: ResidencyPolicy = .standard,
                engine: (any ModelEngine)? = nil) {
        self.engine = engine
        self.modelURL = modelURL
        self.corpora = corpora
        self.formats = formats
        self.randomInitialization = randomInitialization
        self.residency = residency
    }

    private func file() throws -> GGUFFile {
        if let file = state.withLock({ $0.file }) { return file }
        let file = try GGUFFile(contentsOf: modelURL)
        state.withLock { $0.file = file }
        return file
    }

    public func trainedModel() throws -> any ResidualModel {
        guard let engine else { return try nativeTrainedModel() }
        if let model = state.withLock({ $0.engineTrained }) { return model }
        let model = try engine.load(gguf: modelURL)
        state.withLock { $0.engineTrained = model }
        return model
    }

    /// The trained model on this build's own engine.
    public func nativeTrainedModel() throws -> LanguageModel {
        if let model = state.withLock({ $0.trained }) { return model }
        let model = try LanguageModel(gguf: file(), residency: residency)
        state.withLock { $0.trained = model }
        return model
    }

    public func randomInitModel() throws -> any ResidualModel {
        guard let engine else { return try nativeRandomInitModel() }
        if let model = state.withLock({ $0.engineRandom }) { return model }
        let model = try randomInitialization.model(like: trainedModel(), on: engine)
        state.withLock { $0.engineRandom = model }
        return model
    }

    /// The random-init control on this build's own engine.
    public func nativeRandomInitModel() throws -> LanguageModel {
        if let model = state.withLock({ $0.random }) { return model }
        let model = try randomInitialization.model(like: ModelConfiguration(gguf: file()))
        state.withLock { $0.random = model }
        return model
    }

    public func tokenizer() throws -> any Tokenizer {
        if let tokenizer = state.withLock({ $0.tokenizer }) { return tokenizer }
        let tokenizer = try Tokenizers.load(from: file())
        state.withLock { $0.tokenizer = tokenizer }
        return tokenizer
    }

    public func corpusText(_ name: String) throws -> String {
        if let text = state.withLock({ $0.texts[name] }) { return text }
        guard let url = corpora[name] else {
            throw ClaimError.unavailable("corpus '\(name)' (the suite declares: \(corpora.keys.sorted().joined(separator: ", ")))")
        }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ClaimError.unavailable("corpus '\(name)' at \(url.path) (missing or not UTF-8)")
        }
        state.withLock { $0.texts[name] = text }
        return text
    }

    public func corpusFormat(_ name: String) -> CorpusFormat { formats[name] ?? .plain }

    /// Loads `file` (relative to the suite model's folder, or absolute) once per resources object.
    public func additionalModel(_ file: String) throws -> AdditionalModel {
        let url = file.hasPrefix("/") ? URL(fileURLWithPath: file)
            : modelURL.deletingLastPathComponent().appendingPathComponent(file)
        if let hit = state.withLock({ $0.additional[url.path] }) { return hit }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ClaimError.unavailable("model file \(url.path) (paths are relative to the folder of the suite's model)")
        }
        let gguf = try GGUFFile(contentsOf: url)
        let loaded = AdditionalModel(model: try LanguageModel(gguf: gguf, residency: residency), tokenizer: try Tokenizers.load(from: gguf), url: url)
        state.withLock { $0.additional[url.path] = loaded }
        return loaded
    }

    public func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T {
        if let hit = state.withLock({ $0.memo[key] }) as? T { return hit }
        let computed = try value()
        state.withLock { $0.memo[key] = computed }
        return computed
    }
}
