import Analysis
import Claims
import Evidence
import Foundation
import NPY
import Testing
import TestSupport
@testable import Harness
@testable import Recording

/// A tiny llama, a corpus of its tokens and a suite with the capture-only checks (and TD-7, which
/// intervenes), so `--save-states` followed by `--states` can be run in seconds.
struct StatesFixture {
    let temp: TemporaryDirectory
    let modelSHA: String
    let corpusSHA: String

    init() throws {
        temp = try TemporaryDirectory(prefix: "rbench-states")
        let spec = TinyModelSpec(blocks: 6, vocabularySize: TinyVocabulary.tokens.count, seed: 11)
        var writer = try TinyModelFixture.writer(spec)
        TinyVocabulary.add(to: &writer)
        try FileManager.default.createDirectory(at: temp.path("models"), withIntermediateDirectories: true)
        try writer.write(to: temp.path("models/tiny.gguf"))
        modelSHA = try SHA256.hex(fileAt: temp.path("models/tiny.gguf"))
        // 40 lines of words over the tiny vocabulary's pieces: enough paragraphs and chunks.
        var rng = PCG64(seed: 5)
        let words = ["a", "b", "c", "ab", "hello", "abc", "ba", "cab"]
        let lines = (0..<40).map { _ in (0..<12).map { _ in words[rng.nextInt(below: words.count)] }.joined(separator: " ") }
        let text = lines.joined(separator: "\n") + "\n"
        _ = try temp.write("corpora/tiny.txt", text)
        corpusSHA = Recording.SHA256.hex(text)
    }

    /// TD-1…TD-3 at 24 paragraphs, LoT-1 and LoT-3 at 48 chunks (≥ 1.25 × width 32), TD-7 at 24.
    func yaml() -> String {
        """
        suite: tiny-states
        model: {file: tiny.gguf, package: llm-tiny, sha256: \(modelSHA)}
        corpora:
          tiny: {path: tiny.txt, sha256: \(corpusSHA)}
        seed: 1234
        random_init: {seed: 1, std: 0.02, rng: pcg64-xslrr-polar-boxmuller}
        resampling: {replicates: 100, groups: 5}
        claims:
          - id: TD-1
            corpus: tiny
            sampling: {count: 24, tokens: 8}
            controls: [{name: shuffle, expect: refuted}, {name: random-init, expect: informational}]
          - id: TD-2
            corpus: tiny
            sampling: {count: 24, tokens: 8}
            controls: [{name: random-init, expect: refuted}]
          - id: TD-3
            corpus: tiny
            sampling: {count: 24, tokens: 8}
            controls: [{name: random-init, expect: refuted}]
          - id: TD-7
            corpus: tiny
            sampling: {count: 24, tokens: 8}
            params: {layers: [0, 3]}
          - id: LoT-1
            corpus: tiny
            sampling: {count: 48, tokens: 6}
            controls: [{name: random-init, expect: refuted}]
          - id: LoT-3
            corpus: tiny
            sampling: {count: 48, tokens: 6}
        """
    }

    func suite(requireInputFiles: Bool = true) throws -> Suite {
        let url = try temp.write("Suites/tiny-states.yaml", yaml())
        return try Suite.load(url, corporaRoots: [temp.path("corpora")], modelsDirectory: temp.path("models"),
                              requireInputFiles: requireInputFiles)
    }

    func run(_ suite: Suite, store: String, exporter: StateExporter? = nil, states: SavedStates? = nil) throws -> SuiteRunReport {
        let provenance = RunProvenance(revision: RevisionInfo(inRepository: true, commitSHA: String(repeating: "b", count: 40), branch: "main"),
                                       environment: testEnvironment(), argv: ["rbench", "run"])
        let resources = ModelResources(modelURL: suite.model.path, corpora: suite.corpora.mapValues(\.path),
                                       formats: suite.corpora.mapValues(\.format),
                                       randomInitialization: RandomInitialization(seed: 1, std: 0.02))
        var runner = SuiteRunner(suite: suite, registry: ClaimCatalog.registry, resources: { _, _ in resources },
                                 provenance: provenance, store: try ResultStore(path: temp.path("\(store)/rbench.sqlite").path),
                                 runsDirectory: temp.path("\(store)/runs"), baselinesDirectory: temp.path("Baselines"),
                                 progress: { _ in })
        runner.stateExporter = exporter
        runner.savedStates = states
        return try runner.run()
    }
}

@Suite struct StatesRoundTripTests {
    static let captureOnly: Set<String> = ["TD-1", "TD-2", "TD-3", "LoT-1", "LoT-3"]

    /// Same name and layer, and the same bits in the value and the interval's ends.
    static func identical(_ x: MetricRecord, _ y: MetricRecord) -> Bool {
        let lows = (x.interval.map { $0.low.bitPattern }, y.interval.map { $0.low.bitPattern })
        let highs = (x.interval.map { $0.high.bitPattern }, y.interval.map { $0.high.bitPattern })
        return x.name == y.name && x.layer == y.layer && x.value.bitPattern == y.value.bitPattern
            && lows.0 == lows.1 && highs.0 == highs.1
    }

    @Test("--states on the files --save-states wrote reproduces every capture-only check bit for bit; TD-7 needs an engine")
    func savedStatesReproduceTheRun() throws {
        let fixture = try StatesFixture()
        defer { fixture.temp.remove() }
        let suite = try fixture.suite()
        let directory = fixture.temp.path("states")
        let original = try fixture.run(suite, store: "engine", exporter: try StateExporter(directory: directory, suite: suite))
        #expect(original.run.results.allSatisfy { $0.verdict != .error }, "\(original.run.results.map { "\($0.check): \($0.error ?? "")" })")

        // The manifest names TransformerLens hooks and, per check × subject, the sets and draws it used.
        let states = try SavedStates.open(directory, suite: try fixture.suite(requireInputFiles: false))
        let manifest = states.manifest
        #expect(manifest.models["trained"]?.sha256 == fixture.modelSHA)
        #expect(Set(manifest.stateSets.map(\.model)) == ["trained", "random-init"])
        #expect(manifest.stateSets.allSatisfy { $0.hooks["blocks.0.hook_resid_pre"] != nil && $0.hooks["blocks.5.hook_resid_post"] != nil
            && $0.hooks["blocks.2.hook_resid_mid"] != nil && $0.hooks["ln_final.hook_normalized"] != nil })
        let td1 = try #require(manifest.checks.first { $0.check == "TD-1" && $0.subject == "model" })
        #expect(Set(td1.draws.map(\.name)).isSuperset(of: ["shuffle_permutation", "cross_unit_derangement", "rotated_basis_rotation", "bootstrap_n24"]))
        let permutation = try NPYArray(contentsOf: directory.appendingPathComponent(try #require(td1.draws.first { $0.name == "shuffle_permutation" }).array.file))
        #expect(permutation.values.map { Int($0) }.sorted() == Array(0..<24))
        #expect(manifest.checks.first { $0.check == "LoT-1" && $0.subject == "model" }?.draws.contains { $0.name.hasPrefix("jackknife_groups") } == true)

        // Delete the model and corpus: the states alone must do.
        try FileManager.default.removeItem(at: fixture.temp.path("models/tiny.gguf"))
        try FileManager.default.removeItem(at: fixture.temp.path("corpora/tiny.txt"))
        let replay = try fixture.run(try fixture.suite(requireInputFiles: false), store: "states",
                                     states: try SavedStates.open(directory, suite: try fixture.suite(requireInputFiles: false)))
        #expect(replay.run.results.map(\.check) == original.run.results.map(\.check))
        for (before, after) in zip(original.run.results, replay.run.results) {
            let claim = String(before.check.prefix { $0 != "/" })
            if Self.captureOnly.contains(claim) {
                #expect(after.verdict == before.verdict, "\(before.check)")
                #expect(after.metrics.count == before.metrics.count && !before.metrics.isEmpty, "\(before.check)")
                for (x, y) in zip(before.metrics, after.metrics) {
                    let same = Self.identical(x, y)
                    #expect(same, "\(before.check) \(x.name) \(x.layer ?? -1)")
                }
            } else {
                #expect(after.verdict == .needsEngine, "\(before.check)")
                #expect(after.metrics.isEmpty)
            }
        }
        // Needing an engine is neither a finding nor an error: the replay finds what the engine run found
        // (on this tiny model, some controls pass), and nothing about TD-7.
        #expect(replay.exitCode == original.exitCode)
        let td7 = replay.verdicts.filter { $0.check.hasPrefix("TD-7/") }
        #expect(!td7.isEmpty && td7.allSatisfy { $0.outcome == .skipped && $0.reason == "NEEDS_ENGINE" })
    }

    @Test("a states folder is checked before any work: model hash, hook names, shapes, files")
    func badManifestsAreRefusedNamingTheKey() throws {
        let fixture = try StatesFixture()
        defer { fixture.temp.remove() }
        let suite = try fixture.suite()
        let directory = fixture.temp.path("states")
        _ = try fixture.run(suite, store: "engine", exporter: try StateExporter(directory: directory, suite: suite))
        let manifestURL = directory.appendingPathComponent("manifest.json")
        let good = try String(contentsOf: manifestURL, encoding: .utf8)
        func refusal(_ edit: (String) -> String) throws -> String {
            try edit(good).write(to: manifestURL, atomically: true, encoding: .utf8)
            defer { try? good.write(to: manifestURL, atomically: true, encoding: .utf8) }
            do { _ = try SavedStates.open(directory, suite: suite); return "accepted" } catch { return error.description }
        }
        #expect(try refusal { $0.replacingOccurrences(of: fixture.modelSHA, with: String(repeating: "0", count: 64)) }
            .contains("models.trained.sha256"))
        #expect(try refusal { $0.replacingOccurrences(of: "\"blocks.1.hook_resid_mid\"", with: "\"blocks.1.hook_resid_middle\"") }
            .contains("lacks 1 hook(s) of a 6-block model, e.g. blocks.1.hook_resid_mid"))
        #expect(try refusal { $0.replacingOccurrences(of: "\"rbench-states\"", with: "\"other\"") }.contains("'format'"))
        #expect(try refusal { $0.replacingOccurrences(of: "\"n_blocks\" : 6", with: "\"n_blocks\" : 7") }.contains("hooks"))
        // A file whose header disagrees with the manifest's shape.
        let set = try #require(try SavedStates.open(directory, suite: suite).manifest.stateSets.first)
        let file = directory.appendingPathComponent(try #require(set.hooks["blocks.2.hook_resid_pre"]).file)
        try NPYArray(shape: [3, 32], element: .float32, values: Array(repeating: 0, count: 96)).write(to: file)
        #expect(throws: HarnessError.self) { try SavedStates.open(directory, suite: suite) }
        #expect(throws: HarnessError.self) { try StateExporter(directory: directory, suite: suite) }
    }

    @Test("rbench run --states refuses a folder without a manifest (65) and --states with --save-states (64)")
    func cliRefusals() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let fixture = try StatesFixture()
        defer { fixture.temp.remove() }
        _ = try fixture.suite()
        try FileManager.default.createDirectory(at: fixture.temp.path("empty"), withIntermediateDirectories: true)
        let common = ["run", "--suite", "Suites/tiny-states.yaml", "--models-dir", "models", "--corpora", "corpora", "--db", "results/rbench.sqlite", "--quiet"]
        let missing = try runProcess(rbench, common + ["--states", "empty"], in: fixture.temp.url)
        #expect(missing.status == 65 && missing.stderr.contains("no states manifest"), "\(missing.status): \(missing.stderr)")
        let both = try runProcess(rbench, common + ["--states", "empty", "--save-states", "out"], in: fixture.temp.url)
        #expect(both.status == 64, "\(both.status): \(both.stderr)")
    }
}
