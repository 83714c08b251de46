import Analysis
import Claims
import Engine
import Foundation
import NPY
import Recording
import Synchronization
import Tokenization

/// Writes, for every check × subject of a run, exactly the states it read (`rbench run --save-states DIR`):
/// each state set once (`sets/<name>/<hook>.npy`, plus `states.safetensors` when asked), each check's
/// random draws (`draws/<check>/<subject>/<name>.npy`), and at the end `manifest.json` with the hook
/// names, shapes, model hash and the metrics every check recorded.
public final class StateExporter: Sendable {
    public let directory: URL
    public let writesSafetensors: Bool
    let suite: Suite

    private struct Usage {
        var sets: [String] = []
        var draws: [StateManifest.DrawEntry] = []
    }
    private struct State {
        var sets: [String: StateManifest.StateSetEntry] = [:]
        var setOrder: [String] = []
        var usage: [String: Usage] = [:]
        var usageOrder: [String] = []
        var shapes: [ModelRole: ModelShape] = [:]
    }
    private let state = Mutex(State())

    /// Refuses a folder that already holds files: a states directory is written whole by one run.
    public init(directory: URL, suite: Suite, safetensors: Bool = false) throws(HarnessError) {
        self.directory = directory
        self.suite = suite
        writesSafetensors = safetensors
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw .badInput("\(directory.path): --save-states needs an empty or new folder (it holds \(existing.count) entries); choose another or remove it")
        }
        do { try manager.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw .badInput("\(directory.path): cannot create the states folder: \(error)")
        }
    }

    /// Resources for one check × subject that pass everything through to `base` and save what it reads.
    public func recorder(check: String, subject: Subject, seed: UInt64, base: any ClaimResources) -> any ClaimResources {
        let key = Self.usageKey(check, subject)
        state.withLock { state in
            if state.usage[key] == nil {
                state.usage[key] = Usage()
                state.usageOrder.append(key)
            }
        }
        return Recorder(base: base, exporter: self, check: check, subject: subject, seed: seed)
    }

    static func usageKey(_ check: String, _ subject: Subject) -> String { check + "\u{0}" + subject.description }

    // MARK: writing

    func save(_ states: LastPositionStates, key: StateSetKey, check: String, subject: Subject) throws {
        let name = key.name
        let known = state.withLock { $0.sets[name] != nil }
        if !known {
            let entry = try write(states, key: key)
            state.withLock { state in
                if state.sets[name] == nil {
                    state.sets[name] = entry
                    state.setOrder.append(name)
                }
                state.shapes[key.model] = ModelShape(blockCount: states.blockCount, modelWidth: states.residual[0].columns,
                                                     vocabularySize: state.shapes[key.model]?.vocabularySize ?? 0)
            }
        }
        state.withLock { state in
            let usage = Self.usageKey(check, subject)
            if state.usage[usage]?.sets.contains(name) == false { state.usage[usage]?.sets.append(name) }
        }
    }

    func note(vocabulary: Int, of role: ModelRole) {
        state.withLock { state in
            var shape = state.shapes[role] ?? ModelShape(blockCount: 0, modelWidth: 0, vocabularySize: 0)
            shape.vocabularySize = vocabulary
            state.shapes[role] = shape
        }
    }

    func save(_ draw: RecordedDraw, check: String, subject: Subject) throws {
        let usage = Self.usageKey(check, subject)
        if state.withLock({ $0.usage[usage]?.draws.contains { $0.name == draw.name } ?? false }) { return }
        let relative = "draws/\(Self.safe(check))/\(Self.safe(subject.description))/\(Self.safe(draw.name)).npy"
        let array: NPYArray
        switch draw.values {
        case .indices(let shape, let values):
            let element: NPYElement = values.allSatisfy { $0 >= Int(Int32.min) && $0 <= Int(Int32.max) } ? .int32 : .int64
            array = NPYArray(shape: shape, element: element, values: values.map(Double.init))
        case .reals(let shape, let values):
            array = NPYArray(shape: shape, element: .float64, values: values)
        }
        try writeArray(array, relative)
        let entry = StateManifest.DrawEntry(name: draw.name, summary: draw.summary, generator: RecordedDraw.generator,
                                            seed: draw.seed, stream: draw.stream,
                                            array: .init(file: relative, shape: array.shape, dtype: Self.dtypeName(array.element)))
        state.withLock { $0.usage[usage]?.draws.append(entry) }
    }

    private func write(_ states: LastPositionStates, key: StateSetKey) throws -> StateManifest.StateSetEntry {
        let folder = "sets/\(Self.safe(key.name))"
        let n = states.sampleCount, blocks = states.blockCount
        let lengths = Set(states.sequences.map(\.count))
        guard lengths.count == 1, let length = lengths.first else {
            throw HarnessError.badInput("state set \(key.name): its sequences have different lengths \(lengths.sorted()); the states format holds [count, length] token arrays")
        }
        var hooks: [String: StateManifest.ArrayEntry] = [:]
        var tensors: [(String, NPYArray)] = []
        func add(_ hook: HookPoint, _ matrix: Matrix) throws {
            let name = hook.name(blockCount: blocks)
            let array = NPYArray(shape: [matrix.rows, matrix.columns], element: .float32, values: matrix.storage)
            let relative = "\(folder)/\(name).npy"
            try writeArray(array, relative)
            hooks[name] = .init(file: relative, shape: array.shape, dtype: "float32")
            if writesSafetensors { tensors.append((name, array)) }
        }
        for l in 0...blocks { try add(.residual(l), states.residual[l]) }
        guard states.mid.count == blocks else {
            throw HarnessError.badInput("state set \(key.name): \(states.mid.count) mid-block states for \(blocks) blocks")
        }
        for b in 0..<blocks { try add(.residualMid(b), states.mid[b]) }
        try add(.finalNorm, states.finalNorm)
        let tokens = NPYArray(shape: [n, length], element: .int32, values: states.sequences.flatMap { $0.map(Double.init) })
        try writeArray(tokens, "\(folder)/tokens.npy")
        var safetensorsFile: String?
        if writesSafetensors {
            tensors.append(("tokens", tokens))
            let relative = "\(folder)/states.safetensors"
            try SafeTensorsFile(tensors: tensors, metadata: ["format": StateManifest.formatName, "set": key.name])
                .write(to: directory.appendingPathComponent(relative))
            safetensorsFile = relative
        }
        let sequences = key.sequences
        return StateManifest.StateSetEntry(
            name: key.name, model: key.model.rawValue, rule: sequences.rule.rawValue, corpus: sequences.corpus,
            corpusSHA256: suite.corpora[sequences.corpus]?.sha256, count: sequences.count, tokens: sequences.tokens,
            seed: sequences.seed, positions: "last", sequences: .init(file: "\(folder)/tokens.npy", shape: tokens.shape, dtype: "int32"),
            hooks: hooks, safetensors: safetensorsFile)
    }

    private func writeArray(_ array: NPYArray, _ relative: String) throws {
        let url = directory.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try array.write(to: url)
    }

    /// Writes `manifest.json` for the finished run `record`; returns its URL.
    @discardableResult
    public func finish(_ record: RunRecord, engine: EngineRecord?) throws(HarnessError) -> URL {
        let snapshot = state.withLock { $0 }
        var models: [String: StateManifest.ModelEntry] = [:]
        for (role, shape) in snapshot.shapes {
            models[role.rawValue] = StateManifest.ModelEntry(
                sha256: record.modelSHA256, file: role == .trained ? suite.model.file : nil,
                architecture: nil, nBlocks: shape.blockCount, dModel: shape.modelWidth, vocab: shape.vocabularySize,
                origin: role == .randomInit
                    ? "random-init(\(RandomInitialization.generator), seed \(suite.randomInit?.seed ?? 1), std \(suite.randomInit?.std ?? 0.02)) like the trained model"
                    : nil)
        }
        var checks: [StateManifest.CheckEntry] = []
        for key in snapshot.usageOrder {
            guard let usage = snapshot.usage[key] else { continue }
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            let result = record.results.first { $0.claimID == parts[0] && $0.subject == parts[1] }
            guard !usage.sets.isEmpty || !usage.draws.isEmpty else { continue }
            checks.append(StateManifest.CheckEntry(
                check: parts[0], subject: parts[1], seed: result?.seed ?? 0, stateSets: usage.sets, draws: usage.draws,
                verdict: result?.verdict.rawValue,
                metrics: result?.metrics.map { .init(key: $0.key, value: $0.value, low: $0.interval?.low, high: $0.interval?.high) }))
        }
        let manifest = StateManifest(
            format: StateManifest.formatName, version: StateManifest.currentVersion,
            createdBy: "rbench \(record.revision.commitSHA?.prefix(12) ?? "(no commit)")\(record.revision.isDirty ? " (dirty)" : "")",
            runID: record.id, suite: record.suite, suiteSHA256: record.suiteSHA256,
            engine: engine.map { .init(name: $0.name, version: $0.version, device: $0.device, dtype: $0.dtype, protocolVersion: $0.protocolVersion) },
            models: models, hookConvention: StateManifest.hookConventionText,
            stateSets: snapshot.setOrder.compactMap { snapshot.sets[$0] }, checks: checks)
        let url = directory.appendingPathComponent(StateManifest.fileName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: url, options: .atomic)
        } catch {
            throw .badInput("\(url.path): cannot write the states manifest: \(error)")
        }
        return url
    }

    static func safe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }

    static func dtypeName(_ element: NPYElement) -> String {
        switch element {
        case .float32: "float32"
        case .float64: "float64"
        case .int32: "int32"
        case .int64: "int64"
        }
    }
}

/// Passes everything through to the run's resources and tells the exporter what the check read.
private final class Recorder: ClaimResources {
    let base: any ClaimResources
    let exporter: StateExporter
    let check: String
    let subject: Subject
    let seed: UInt64

    init(base: any ClaimResources, exporter: StateExporter, check: String, subject: Subject, seed: UInt64) {
        self.base = base
        self.exporter = exporter
        self.check = check
        self.subject = subject
        self.seed = seed
    }

    func trainedModel() throws -> any ResidualModel {
        let model = try base.trainedModel()
        exporter.note(vocabulary: model.configuration.vocabularySize, of: .trained)
        return model
    }
    func randomInitModel() throws -> any ResidualModel {
        let model = try base.randomInitModel()
        exporter.note(vocabulary: model.configuration.vocabularySize, of: .randomInit)
        return model
    }
    func tokenizer() throws -> any Tokenizer { try base.tokenizer() }
    func corpusText(_ name: String) throws -> String { try base.corpusText(name) }
    func corpusFormat(_ name: String) -> CorpusFormat { base.corpusFormat(name) }
    func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T { try base.memoized(key, value) }
    func additionalModel(_ file: String) throws -> AdditionalModel { try base.additionalModel(file) }
    func sequences(_ key: SequenceSetKey, draw: () throws -> [[Int]]) throws -> [[Int]] { try base.sequences(key, draw: draw) }
    func modelShape(_ role: ModelRole) throws -> ModelShape {
        let shape = try base.modelShape(role)
        exporter.note(vocabulary: shape.vocabularySize, of: role)
        return shape
    }

    func lastPositionStates(_ key: StateSetKey, capture: () throws -> LastPositionStates) throws -> LastPositionStates {
        let states = try base.lastPositionStates(key, capture: capture)
        try exporter.save(states, key: key, check: check, subject: subject)
        if let shape = try? base.modelShape(key.model) { exporter.note(vocabulary: shape.vocabularySize, of: key.model) }
        return states
    }

    func record(_ draw: @autoclosure () -> RecordedDraw) {
        // A draw that cannot be written loses only its copy in the states folder: say so, never stop the check.
        do { try exporter.save(draw(), check: check, subject: subject) } catch {
            StandardStreams.writeError("warning: --save-states could not write a draw of \(check)/\(subject): \(error)\n")
        }
    }
}
