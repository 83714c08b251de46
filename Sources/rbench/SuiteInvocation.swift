import BLASThreading
import Engine
import Foundation
import Harness
import Recording

/// Loads a suite, checks it against the registry and the model file (or the saved states that
/// stand in for the model), and runs it: what `rbench run` and `rbench bench --suite` share.
struct SuiteInvocation {
    var suite: String
    var model: String?
    var modelsDir: String
    var corpora: [String]
    var weights: String
    /// `native` or `transformers`.
    var engine = "native"
    var device: String?
    /// Replay the capture-only checks from this states folder instead of running a model.
    var states: String?
    /// Write every state each check × subject read to this new folder.
    var saveStates: String?
    var safetensors = false

    /// A suite ready to run, with the states that replace the model when `states` is set.
    struct Prepared {
        var suite: Suite
        var savedStates: SavedStates?
    }

    func load() throws -> Prepared {
        let parsed = try Suite.load(suitePath(suite), corporaRoots: corpora.map { URL(fileURLWithPath: $0) },
                                    modelsDirectory: URL(fileURLWithPath: modelsDir),
                                    modelOverride: model.map { URL(fileURLWithPath: $0) },
                                    requireInputFiles: states == nil)
        try SuiteRunner.validate(parsed, against: HarnessDefaults.registry)
        let savedStates = try states.map { try SavedStates.open(URL(fileURLWithPath: $0), suite: parsed) }
        if savedStates == nil { try EngineResources.preflight(parsed.model.path) }
        return Prepared(suite: parsed, savedStates: savedStates)
    }

    func run(_ prepared: Prepared, store: ResultStore, runsDirectory: URL, baselinesDirectory: URL, strict: Bool,
             reporter: ProgressReporter) throws -> SuiteRunReport {
        let parsed = prepared.suite
        guard let resources = HarnessDefaults.resources else {
            throw HarnessError.badInput("this build has no resource provider for claims yet (HarnessDefaults.resources is unset); claims: \(HarnessDefaults.registry.ids.joined(separator: ", "))")
        }
        EngineResources.residencyPolicy = ResidencyPolicy(name: weights) ?? .standard
        if engine == "transformers" {
            let started: WorkerEngine
            do { started = try WorkerEngine.transformers(root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath), device: device) } catch {
                throw HarnessError.badInput("--engine transformers: \(error)")
            }
            EngineResources.engine = started
            reporter.note("engine: \(started.record.summary)")
        }
        let info = HarnessDefaults.engineInfo()
        let provenance = RunProvenance(
            revision: try RevisionInfo.read(at: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
            environment: .current(threads: info.threads, blasConfig: info.blasConfig, blasCoreType: info.blasCoreType,
                                  batchSize: info.batchSize,
                                  weightResidency: prepared.savedStates == nil && engine == "native"
                                      ? EngineResources.residencyRecord(for: parsed.model.path) : nil,
                                  engine: prepared.savedStates?.engineRecord ?? EngineResources.engine?.record,
                                  blasCoreOverride: BLASKernels.override),
            argv: CommandLine.arguments)
        var runner = SuiteRunner(suite: parsed, registry: HarnessDefaults.registry, resources: resources, provenance: provenance,
                                 store: store, runsDirectory: runsDirectory, baselinesDirectory: baselinesDirectory, strict: strict,
                                 progress: { reporter.note($0) }, reporter: reporter)
        runner.savedStates = prepared.savedStates
        runner.stateExporter = try saveStates.map { try StateExporter(directory: URL(fileURLWithPath: $0), suite: parsed, safetensors: safetensors) }
        return try runner.run()
    }
}
