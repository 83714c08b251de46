import Engine
import Foundation
import Harness
import Recording

/// Loads a suite, checks it against the registry and the model file, and runs it: what `rbench run`
/// and `rbench bench --suite` share.
struct SuiteInvocation {
    var suite: String
    var model: String?
    var modelsDir: String
    var corpora: [String]
    var weights: String

    func load() throws -> Suite {
        let parsed = try Suite.load(suitePath(suite), corporaRoots: corpora.map { URL(fileURLWithPath: $0) },
                                    modelsDirectory: URL(fileURLWithPath: modelsDir),
                                    modelOverride: model.map { URL(fileURLWithPath: $0) })
        try SuiteRunner.validate(parsed, against: HarnessDefaults.registry)
        try EngineResources.preflight(parsed.model.path)
        return parsed
    }

    func run(_ parsed: Suite, store: ResultStore, runsDirectory: URL, baselinesDirectory: URL, strict: Bool,
             reporter: ProgressReporter) throws -> SuiteRunReport {
        guard let resources = HarnessDefaults.resources else {
            throw HarnessError.badInput("this build has no resource provider for claims yet (HarnessDefaults.resources is unset); claims: \(HarnessDefaults.registry.ids.joined(separator: ", "))")
        }
        EngineResources.residencyPolicy = ResidencyPolicy(name: weights) ?? .standard
        let info = HarnessDefaults.engineInfo()
        let provenance = RunProvenance(
            revision: try RevisionInfo.read(at: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
            environment: .current(threads: info.threads, blasConfig: info.blasConfig, blasCoreType: info.blasCoreType,
                                  batchSize: info.batchSize,
                                  weightResidency: EngineResources.residencyRecord(for: parsed.model.path)),
            argv: CommandLine.arguments)
        let runner = SuiteRunner(suite: parsed, registry: HarnessDefaults.registry, resources: resources, provenance: provenance,
                                 store: store, runsDirectory: runsDirectory, baselinesDirectory: baselinesDirectory, strict: strict,
                                 progress: { reporter.note($0) }, reporter: reporter)
        return try runner.run()
    }
}
