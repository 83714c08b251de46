import Analysis
import Claims
import Engine
import Foundation
import NPY
import Recording
import Synchronization
import Tokenization

/// Claim resources that read recorded states instead of running a model (`rbench run --states DIR`).
///
/// The capture-only checks (those that read last-position states, sequences and their own draws)
/// run exactly as on an engine and, on states saved by `--save-states`, reproduce its metrics bit
/// for bit. A check that runs a model — an intervention, a resume, a readout through the final norm
/// or unembedding — gets ``ClaimError/needsEngine(_:)`` and is recorded as ``Verdict/needsEngine``.
///
/// ``open(_:suite:)`` validates the whole manifest before any work: format and version, the model
/// hash against the suite's, every set's hook names, every file's shape and dtype.
public final class SavedStates: ClaimResources {
    public let directory: URL
    public let manifest: StateManifest
    private let sets: [String: StateManifest.StateSetEntry]
    private let memo = Mutex<[String: any Sendable]>([:])

    private init(directory: URL, manifest: StateManifest) {
        self.directory = directory
        self.manifest = manifest
        sets = Dictionary(manifest.stateSets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The manifest's engine as the environment records it (nil: the native engine made the states).
    public var engineRecord: EngineRecord? {
        manifest.engine.flatMap { $0.name == "native" ? nil : EngineRecord(name: $0.name, version: $0.version, device: $0.device,
                                                                               dtype: $0.dtype, protocolVersion: $0.protocolVersion ?? 0) }
    }

    /// The trained model's hash as the manifest gives it.
    public var modelSHA256: String { manifest.models["trained"]?.sha256 ?? "" }

    /// Reads and checks `DIR/manifest.json` against `suite`. Throws ``HarnessError/badInput(_:)``
    /// naming the file and the key at fault.
    public static func open(_ directory: URL, suite: Suite) throws(HarnessError) -> SavedStates {
        let url = directory.appendingPathComponent(StateManifest.fileName)
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput("\(path): no states manifest here (write one with `rbench run --save-states \(directory.path)`, or see docs/states.md for the format)")
        }
        let manifest: StateManifest
        do { manifest = try JSONDecoder().decode(StateManifest.self, from: data) } catch {
            throw .badInput("\(path): not a states manifest: \(Self.describe(error))")
        }
        guard manifest.format == StateManifest.formatName else {
            throw .badInput("\(path): key 'format' is '\(manifest.format)', expected '\(StateManifest.formatName)'")
        }
        guard (1...StateManifest.currentVersion).contains(manifest.version) else {
            throw .badInput("\(path): key 'version' is \(manifest.version); this build reads versions 1…\(StateManifest.currentVersion)")
        }
        guard let trained = manifest.models["trained"] else {
            throw .badInput("\(path): key 'models.trained' is missing: the manifest must name the model the states came from")
        }
        guard trained.sha256.lowercased() == suite.model.sha256.lowercased() else {
            throw .badInput("\(path): key 'models.trained.sha256' is \(trained.sha256.prefix(12))…, but suite \(suite.name) names model \(suite.model.sha256.prefix(12))… (\(suite.file.path) key 'model.sha256'): these states belong to another model")
        }
        var names = Set<String>()
        for (index, set) in manifest.stateSets.enumerated() {
            let key = "state_sets[\(index)]"
            guard names.insert(set.name).inserted else { throw .badInput("\(path): key '\(key).name': '\(set.name)' appears twice") }
            guard let model = manifest.models[set.model] else {
                throw .badInput("\(path): key '\(key).model': '\(set.model)' is not one of the manifest's models (\(manifest.models.keys.sorted().joined(separator: ", ")))")
            }
            guard ModelRole(rawValue: set.model) != nil else {
                throw .badInput("\(path): key '\(key).model': '\(set.model)' is not trained or random-init")
            }
            guard SequenceRule(rawValue: set.rule) != nil else {
                throw .badInput("\(path): key '\(key).rule': '\(set.rule)' is not one of \(SequenceRule.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard set.positions == "last" else {
                throw .badInput("\(path): key '\(key).positions': '\(set.positions)'; the checks read the last position only ('last')")
            }
            guard model.nBlocks >= 1, model.dModel >= 1, set.count >= 1 else {
                throw .badInput("\(path): key '\(key)': model '\(set.model)' has n_blocks \(model.nBlocks), d_model \(model.dModel), count \(set.count); all must be ≥ 1")
            }
            if let corpus = suite.corpora[set.corpus] {
                if let sha = set.corpusSHA256, sha.lowercased() != corpus.sha256.lowercased() {
                    throw .badInput("\(path): key '\(key).corpus_sha256' is \(sha.prefix(12))…, but the suite's corpus '\(set.corpus)' is \(corpus.sha256.prefix(12))…")
                }
            } else {
                throw .badInput("\(path): key '\(key).corpus': '\(set.corpus)' is not a corpus of suite \(suite.name) (\(suite.corpora.keys.sorted().joined(separator: ", ")))")
            }
            let required = StateManifest.requiredHooks(blockCount: model.nBlocks)
            let missing = required.filter { set.hooks[$0] == nil }
            guard missing.isEmpty else {
                throw .badInput("\(path): key '\(key).hooks' lacks \(missing.count) hook(s) of a \(model.nBlocks)-block model, e.g. \(missing.prefix(3).joined(separator: ", ")); every set needs blocks.{l}.hook_resid_pre (l < \(model.nBlocks)), blocks.\(model.nBlocks - 1).hook_resid_post, blocks.{l}.hook_resid_mid and ln_final.hook_normalized")
            }
            let unknown = Set(set.hooks.keys).subtracting(required).sorted()
            guard unknown.isEmpty else {
                throw .badInput("\(path): key '\(key).hooks' has hook name(s) \(unknown.prefix(3).joined(separator: ", ")) that a \(model.nBlocks)-block model does not have (TransformerLens names: blocks.{l}.hook_resid_pre / hook_resid_mid / hook_resid_post, ln_final.hook_normalized)")
            }
            for hook in required {
                try check(set.hooks[hook]!, expected: [set.count, model.dModel], floats: true, in: directory, key: "\(key).hooks.\(hook)", manifest: path)
            }
            try check(set.sequences, expected: [set.count, nil], floats: false, in: directory, key: "\(key).sequences", manifest: path)
        }
        return SavedStates(directory: directory, manifest: manifest)
    }

    /// Checks one array: the manifest's shape is the expected one, the file exists inside the
    /// folder and its header declares that shape and a dtype of the right kind.
    private static func check(_ entry: StateManifest.ArrayEntry, expected: [Int?], floats: Bool, in directory: URL,
                              key: String, manifest: String) throws(HarnessError) {
        let shapeMatches = entry.shape.count == expected.count && zip(entry.shape, expected).allSatisfy { $1 == nil ? $0 >= 1 : $0 == $1 }
        guard shapeMatches else {
            throw .badInput("\(manifest): key '\(key).shape' is \(entry.shape), expected \(expected.map { $0.map(String.init) ?? "length" })")
        }
        guard !entry.file.hasPrefix("/"), !entry.file.split(separator: "/").contains("..") else {
            throw .badInput("\(manifest): key '\(key).file' '\(entry.file)' must be a path inside the states folder")
        }
        let url = directory.appendingPathComponent(entry.file)
        let header: (shape: [Int], element: NPYElement)
        do { header = try NPYArray.header(of: url) } catch {
            throw .badInput("\(manifest): key '\(key).file': \(error)")
        }
        guard header.shape == entry.shape else {
            throw .badInput("\(url.path): holds shape \(header.shape), the manifest (key '\(key).shape') says \(entry.shape)")
        }
        let allowed: [NPYElement] = floats ? [.float32, .float64] : [.int32, .int64]
        guard allowed.contains(header.element) else {
            throw .badInput("\(url.path): dtype \(header.element.rawValue) where \(floats ? "float32 or float64" : "int32 or int64") is needed (key '\(key)')")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "key '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }

    // MARK: ClaimResources

    public func trainedModel() throws -> any ResidualModel {
        throw ClaimError.needsEngine("the check runs the model itself (interventions, resumes or readouts), and --states \(directory.path) provides recorded states only; run it with an engine")
    }

    public func randomInitModel() throws -> any ResidualModel {
        throw ClaimError.needsEngine("the check runs the random-init model itself, and --states \(directory.path) provides recorded states only")
    }

    public func tokenizer() throws -> any Tokenizer {
        throw ClaimError.needsEngine("the check tokenizes text of its own, and --states \(directory.path) provides recorded sequences only")
    }

    public func corpusText(_ name: String) throws -> String {
        throw ClaimError.needsEngine("the check reads corpus '\(name)' beyond the recorded sequences")
    }

    public func modelShape(_ role: ModelRole) throws -> ModelShape {
        guard let model = manifest.models[role.rawValue] ?? manifest.models["trained"] else {
            throw ClaimError.unavailable("model '\(role.rawValue)' in \(directory.path)/manifest.json")
        }
        return ModelShape(blockCount: model.nBlocks, modelWidth: model.dModel, vocabularySize: model.vocab)
    }

    public func memoized<T: Sendable>(_ key: String, _ value: () throws -> T) throws -> T {
        if let hit = memo.withLock({ $0[key] }) as? T { return hit }
        let computed = try value()
        memo.withLock { $0[key] = computed }
        return computed
    }

    public func sequences(_ key: SequenceSetKey, draw: () throws -> [[Int]]) throws -> [[Int]] {
        guard let set = manifest.stateSets.first(where: { matches($0, key) }) else {
            throw ClaimError.unavailable("sequences \(key.name) in \(directory.path) (it holds: \(availableSets))")
        }
        return try memoized("sequences/" + set.name) { try Self.tokens(set, in: directory) }
    }

    public func lastPositionStates(_ key: StateSetKey, capture: () throws -> LastPositionStates) throws -> LastPositionStates {
        guard let set = sets[key.name] ?? manifest.stateSets.first(where: { $0.model == key.model.rawValue && matches($0, key.sequences) }) else {
            throw ClaimError.unavailable("states \(key.name) in \(directory.path) (it holds: \(availableSets))")
        }
        return try memoized("states/" + set.name) {
            let model = manifest.models[set.model]!
            let blocks = model.nBlocks
            func matrix(_ hook: HookPoint) throws -> Matrix {
                let entry = set.hooks[hook.name(blockCount: blocks)]!
                let array = try NPYArray(contentsOf: directory.appendingPathComponent(entry.file))
                return Matrix(rows: entry.shape[0], columns: entry.shape[1], storage: array.values)
            }
            return LastPositionStates(residual: try (0...blocks).map { try matrix(.residual($0)) },
                                      mid: try (0..<blocks).map { try matrix(.residualMid($0)) },
                                      finalNorm: try matrix(.finalNorm), sequences: try Self.tokens(set, in: directory))
        }
    }

    private func matches(_ set: StateManifest.StateSetEntry, _ key: SequenceSetKey) -> Bool {
        set.rule == key.rule.rawValue && set.corpus == key.corpus && set.count == key.count && set.tokens == key.tokens && set.seed == key.seed
    }

    private var availableSets: String {
        manifest.stateSets.isEmpty ? "no state sets" : manifest.stateSets.map(\.name).joined(separator: ", ")
    }

    private static func tokens(_ set: StateManifest.StateSetEntry, in directory: URL) throws -> [[Int]] {
        let array = try NPYArray(contentsOf: directory.appendingPathComponent(set.sequences.file))
        let length = set.sequences.shape[1]
        return (0..<set.sequences.shape[0]).map { r in (0..<length).map { Int(array.values[r * length + $0]) } }
    }
}
