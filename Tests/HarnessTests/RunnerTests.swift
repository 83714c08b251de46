import Claims
import Evidence
import Foundation
import Testing
import TestSupport
import Tokenization
@testable import Harness
@testable import Recording

struct NoResources: ClaimResources {}

/// Just enough for the runner's sampling preflight: a tokenizer and a corpus of ten paragraphs.
struct ScriptedResources: ClaimResources {
    func tokenizer() throws -> any Tokenizer { WordTokenizer() }
    func corpusText(_ name: String) throws -> String { (1...10).map { "paragraph \($0) has some words in it and a few more words to reach twelve" }.joined(separator: "\n") }
}

/// One id per whitespace-separated word (its length).
struct WordTokenizer: Tokenizer {
    let vocabulary = TokenizerVocabulary(model: "words", tokens: (0..<64).map { "w\($0)" })
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        text.split(separator: " " as Character).map { min(63, $0.count) }
    }
    func decode(_ ids: [Int], renderControlTokens: Bool) -> String { ids.map { "w\($0)" }.joined(separator: " ") }
}

/// A claim defined only in the tests: its metric and interval come from the parameters and subject.
/// `spread` widens the interval around the observed value (0 = a point estimate), `control_value`
/// sets what the controls observe.
struct ScriptedClaim: Claim {
    var id = "T-1"
    var title = "scripted"
    var source = "tests"
    var controls = ["shuffle", "random-init"]
    var value: Double = 0.5
    var criteria = [CriterionDefinition("score_min", statistic: "score_summary", .atLeast, 0.5, "the scripted score")]
    var parameters = [
        ParameterSpec("threshold", .double, "unused by the rule; changes the suite hash"),
        ParameterSpec("layers", .ints, "unused"),
        ParameterSpec("explode", .bool, "throw instead of returning"),
        ParameterSpec("spread", .double, "half-width of the interval"),
        ParameterSpec("control_value", .double, "what the controls observe (default 0.01)"),
    ]
    var sampleRequirement: SampleRequirement? = SampleRequirement(.paragraphs, absolute: 3, perWidth: 0, reason: "a scripted minimum")
    var uncertainty = "scripted"

    func run(_ context: ClaimContext) throws -> ClaimOutcome {
        struct Boom: Error, CustomStringConvertible { var description: String { "claim exploded" } }
        if context.parameters.bool("explode", default: false) { throw Boom() }
        let spread = context.parameters.double("spread", default: 0)
        let observed = context.subject == .model ? value : context.parameters.double("control_value", default: 0.01)
        let interval = spread > 0 ? Interval(low: observed - spread, high: observed + spread, level: 0.95, method: .bootstrap,
                                             replicates: 100, sampleSize: 40, unit: "prompts") : nil
        return ClaimOutcome(metrics: [Metric("score", layer: 1, value: observed), Metric("seed", value: Double(context.seed)),
                                      Metric("score_summary", value: observed, interval: interval)])
    }
}

struct RunnerFixture {
    let suite: SuiteFixture
    let store: ResultStore

    init() throws {
        suite = try SuiteFixture()
        store = try ResultStore(path: suite.temp.path("results/rbench.sqlite").path)
    }

    var baselines: URL { suite.temp.path("Baselines") }

    func run(_ claim: ScriptedClaim = ScriptedClaim(), yaml: String? = nil, strict: Bool = false) throws -> SuiteRunReport {
        let parsed = try suite.load(yaml ?? suite.yaml())
        let provenance = RunProvenance(revision: RevisionInfo(inRepository: true, commitSHA: String(repeating: "a", count: 40), branch: "main"),
                                       environment: testEnvironment(), argv: ["rbench", "run"])
        let runner = SuiteRunner(suite: parsed, registry: ClaimRegistry([claim]), resources: { _, _ in ScriptedResources() },
                                 provenance: provenance, store: store, runsDirectory: suite.temp.path("results/runs"),
                                 baselinesDirectory: baselines, strict: strict, progress: { _ in })
        return try runner.run()
    }
}

func testEnvironment() -> EnvironmentInfo {
    EnvironmentInfo(hostname: "h", osName: "Linux", kernel: "k", cpuModel: "cpu", cpuArch: "x86_64", isaFeatures: ["avx2"],
                    coresOnline: 2, threads: 2, memoryBytes: 1, swiftVersion: "6.3", buildConfig: "release",
                    blasConfig: "blas", blasCoreType: "Haswell", batchSize: 1)
}

@Suite struct RunnerTests {
    @Test func runsModelAndControlsRecordsAndJudges() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let first = try fixture.run()
        #expect(first.run.results.map(\.check) == ["T-1/model", "T-1/shuffle"])
        #expect(first.run.results.map(\.verdict) == [.supported, .refuted])
        #expect(first.run.results[1].expectedVerdict == .refuted)
        #expect(try fixture.store.status(ofRun: first.run.id) == .complete)
        #expect(try RunFile.read(first.runFile) == first.run)
        #expect(first.verdicts.contains { $0.outcome == .missing })
        #expect(first.exitCode == 0)
        #expect(try fixture.run(strict: true).exitCode == ExitCodes.baseline)

        // Baseline from the first run; the same numbers pass bitwise.
        let (file, _) = BaselineUpdate.apply(run: first.run, to: nil, reason: "initial")
        try file.write(to: BaselineFile.url(in: fixture.baselines, suite: "tiny", determinismClass: first.run.environment.determinismClass))
        let again = try fixture.run(strict: true)
        #expect(again.exitCode == 0)
        #expect(again.verdicts.allSatisfy { $0.outcome == .pass })
        #expect(try fixture.store.verdictCount(runID: again.run.id) == again.verdicts.count)

        // A numeric change is a correctness finding; a refuted claim is a flip.
        #expect(try fixture.run(ScriptedClaim(value: 0.75)).exitCode == ExitCodes.correctness)
        let flipped = try fixture.run(ScriptedClaim(value: 0.25))
        #expect(flipped.verdicts.contains { $0.reason == "CLAIM_FLIP" })
        // Editing the suite makes the baseline stale.
        let edited = try fixture.run(yaml: fixture.suite.yaml().replacingOccurrences(of: "layers: [1, 2]", with: "layers: [1, 3]"))
        #expect(edited.exitCode == ExitCodes.baseline)
    }

    @Test func thrownErrorsBecomeErrorVerdicts() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let report = try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 2}, params: {explode: true}}\n"))
        #expect(report.run.results.map(\.verdict) == [.error])
        #expect(report.run.results[0].error == "claim exploded")
        #expect(report.exitCode == ExitCodes.correctness)
    }

    @Test func unknownClaimsAndControlsAreRejectedUpFront() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        #expect(throws: SuiteError.self) { try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: NOPE-1}\n")) }
        do {
            _ = try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 2}, controls: [mirror]}\n"))
            Issue.record("expected an error")
        } catch let error as SuiteError {
            #expect(error.description.contains(":8: key 'claims[0].controls[0]': T-1 has no control 'mirror'"))
        }
        #expect(try fixture.store.runs().isEmpty, "nothing is recorded for a rejected suite")
    }
}

@Suite struct IntervalVerdictTests {
    func claims(_ params: String, controls: String = "[{name: shuffle, expect: refuted}]") -> String {
        "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 2}, params: {\(params)}, controls: \(controls)}\n"
    }

    @Test("an interval that straddles the threshold makes the claim inconclusive, named in the run file")
    func inconclusiveModel() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let report = try fixture.run(ScriptedClaim(value: 0.55), yaml: fixture.suite.yaml(claims: claims("spread: 0.1")))
        let model = try #require(report.run.results.first { $0.subject == "model" })
        #expect(model.verdict == .inconclusive)
        #expect(model.criteria.map(\.outcome) == [.undecided])
        #expect(abs((model.criteria[0].interval?.low ?? 0) - 0.45) < 1e-12 && abs((model.criteria[0].interval?.high ?? 0) - 0.65) < 1e-12)
        #expect(report.verdicts.contains { $0.reason == "CLAIM_INCONCLUSIVE" })
        #expect(report.exitCode == 0, "an inconclusive model verdict with no baseline is not a failure…")
        #expect(try fixture.run(ScriptedClaim(value: 0.55), yaml: fixture.suite.yaml(claims: claims("spread: 0.1")), strict: true).exitCode
                & ExitCodes.inconclusive != 0, "…but counts under --strict")
        // The run file keeps the criterion with its interval.
        let text = try String(contentsOf: report.runFile, encoding: .utf8)
        #expect(text.contains("\"interval\" : [") && text.contains("\"outcome\" : \"undecided\""))
        // And so does the database.
        let stored = try fixture.store.loadRun(id: report.run.id)
        #expect(stored.results == report.run.results)
    }

    @Test("a control that is only undecided has not shown the check can fail: a correctness finding")
    func undecidedControl() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let report = try fixture.run(ScriptedClaim(value: 0.9), yaml: fixture.suite.yaml(claims: claims("spread: 0.1, control_value: 0.45")))
        #expect(report.run.results.map(\.verdict) == [.supported, .inconclusive])
        #expect(report.verdicts.contains { $0.reason == "CONTROL_UNDECIDED" && $0.outcome == .regress })
        #expect(report.exitCode & ExitCodes.correctness != 0)
        // Unless the suite expects exactly that.
        let expected = try fixture.run(ScriptedClaim(value: 0.9), yaml: fixture.suite.yaml(
            claims: claims("spread: 0.1, control_value: 0.45", controls: "[{name: shuffle, expect: inconclusive}]")))
        #expect(!expected.verdicts.contains { $0.outcome == .regress })
    }

    @Test("an override changes the threshold, keeps its reason, and shows in the run")
    func override() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let yaml = fixture.suite.yaml(claims: claims("spread: 0.01")) + "criteria: {T-1: {score_min: {value: 0.3, reason: \"a shallower model\"}}}\n"
        let report = try fixture.run(ScriptedClaim(value: 0.4), yaml: yaml)
        let model = try #require(report.run.results.first { $0.subject == "model" })
        #expect(model.verdict == .supported)
        #expect(model.criteria[0].threshold == 0.3 && model.criteria[0].override?.original == 0.5)
        #expect(model.criteria[0].override?.reason == "a shallower model")
        #expect(ClaimSummary(run: report.run).table().contains("override T-1 score_min"))
        #expect(VerdictReport.markdown(run: report.run, verdicts: report.verdicts, exitCode: report.exitCode).contains("a shallower model"))
    }

    @Test("criteria are baselined: a criterion that moves from held to undecided is a finding")
    func baselinedCriteria() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let yaml = fixture.suite.yaml(claims: claims("spread: 0.1"))
        let first = try fixture.run(ScriptedClaim(value: 0.9), yaml: yaml)
        let (file, _) = BaselineUpdate.apply(run: first.run, to: nil, reason: "initial")
        #expect(file.criteria.count == 2)
        let url = BaselineFile.url(in: fixture.baselines, suite: "tiny", determinismClass: first.run.environment.determinismClass)
        try file.write(to: url)
        #expect(try BaselineFile.load(url) == file)
        #expect(try fixture.run(ScriptedClaim(value: 0.9), yaml: yaml).exitCode == 0)
        let moved = try fixture.run(ScriptedClaim(value: 0.55), yaml: yaml)
        #expect(moved.verdicts.contains { $0.reason == "CRITERION_CHANGED" && $0.metric == "criterion:score_min" })
        #expect(moved.verdicts.contains { $0.reason == "VERDICT_CHANGED" })
        #expect(moved.exitCode & ExitCodes.correctness != 0)
    }
}
