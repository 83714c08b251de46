import Claims
import Engine
import Foundation
import Synchronization

/// The engine-backed resources `rbench run` hands to claims.
///
/// One ``ModelResources`` per suite model serves every subject, so the trained model is
/// loaded once and captures shared by several claims (same corpus and sampling) run once.
public enum EngineResources {
    private static let shared = Mutex<[String: ModelResources]>([:])

    public static let factory: ResourceFactory = { suite, _ in
        let key = suite.model.path.path + "|" + suite.sha256
        return shared.withLock { cache in
            if let hit = cache[key] { return hit }
            let resources = ModelResources(
                modelURL: suite.model.path,
                corpora: suite.corpora.mapValues(\.path),
                randomInitialization: RandomInitialization(seed: suite.randomInit?.seed ?? 1, std: suite.randomInit?.std ?? 0.02))
            cache[key] = resources
            return resources
        }
    }

    /// OpenBLAS build and core, threads, and the engine's batch bound: what can change numbers.
    public static let engineInfo: @Sendable () -> (blasConfig: String, blasCoreType: String, threads: Int, batchSize: Int) = {
        (BLAS.configuration, BLAS.coreName, BLAS.threadCount, 2048)
    }
}
