import Claims
import Engine
import Foundation
import GGUF
import Synchronization
import Tokenization

/// The engine-backed resources `rbench run` hands to claims.
///
/// One ``ModelResources`` per suite model serves every subject, so the trained model is
/// loaded once and captures shared by several claims (same corpus and sampling) run once.
public enum EngineResources {
    private static let shared = Mutex<[String: ModelResources]>([:])
    private static let policy = Mutex(ResidencyPolicy.standard)
    private static let workerEngine = Mutex<WorkerEngine?>(nil)

    /// The engine worker the suite's models run on (`rbench run --engine`); nil: the native engine.
    public static var engine: WorkerEngine? {
        get { workerEngine.withLock { $0 } }
        set { workerEngine.withLock { $0 = newValue } }
    }

    /// Where the models' block matrices live (`rbench run --weights`); set before the first run.
    public static var residencyPolicy: ResidencyPolicy {
        get { policy.withLock { $0 } }
        set { policy.withLock { $0 = newValue } }
    }

    public static let factory: ResourceFactory = { suite, _ in
        let residency = residencyPolicy
        let engine = engine
        let key = suite.model.path.path + "|" + suite.sha256 + "|" + residency.description + "|" + (engine.map { "\(ObjectIdentifier($0))" } ?? "native")
        return shared.withLock { cache in
            if let hit = cache[key] { return hit }
            let resources = ModelResources(
                modelURL: suite.model.path,
                corpora: suite.corpora.mapValues(\.path), formats: suite.corpora.mapValues(\.format),
                randomInitialization: RandomInitialization(seed: suite.randomInit?.seed ?? 1, std: suite.randomInit?.std ?? 0.02),
                residency: residency, engine: engine)
            cache[key] = resources
            return resources
        }
    }

    /// OpenBLAS build and core, threads, and the engine's batch bound: what can change numbers.
    public static let engineInfo: @Sendable () -> (blasConfig: String, blasCoreType: String, threads: Int, batchSize: Int) = {
        (BLAS.configuration, BLAS.coreName, BLAS.threadCount, 2048)
    }
}

extension EngineResources {
    /// What the environment record says about weights for the model at `url`: the residency
    /// the current policy picks for it and the policy, e.g. `quantized (policy auto …)`.
    /// Reads only the header; `nil` when the file cannot be read (preflight reports that).
    public static func residencyRecord(for url: URL) -> String? {
        guard let file = try? GGUFFile(contentsOf: url), let configuration = try? ModelConfiguration(gguf: file) else {
            return nil
        }
        let policy = residencyPolicy
        return "\(LanguageModel.residency(for: configuration, policy: policy).rawValue) (policy \(policy))"
    }

    /// Checks, before any work starts, that the engine can run this model: a supported
    /// architecture, every tensor of a type it can dequantize, and a tokenizer it knows.
    /// Throws ``HarnessError/badInput(_:)`` naming the file and what is missing.
    public static func preflight(_ url: URL) throws(HarnessError) {
        do {
            let file = try GGUFFile(contentsOf: url)
            _ = try ModelConfiguration(gguf: file)
            let unsupported = Set(file.tensors.map(\.type).filter { !$0.isDequantizable })
            guard unsupported.isEmpty else {
                throw HarnessError.badInput("\(url.path): tensor types \(unsupported.map(\.name).sorted().joined(separator: ", ")) "
                    + "are not supported by the engine (supported: \(GGMLType.dequantizableTypes.map(\.name).joined(separator: ", ")))")
            }
            _ = try Tokenizers.load(from: file)
        } catch let error as HarnessError {
            throw error
        } catch {
            throw HarnessError.badInput("\(error)")
        }
    }
}
