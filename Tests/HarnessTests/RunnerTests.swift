import Claims
import Foundation
import Testing
import TestSupport
@testable import Harness
@testable import Recording

struct NoResources: ClaimResources {}

/// A claim defined only in the tests: its verdict and metric come from the parameters and subject.
struct ScriptedClaim: Claim {
    var id = "T-1"
    var title = "scripted"
    var source = "tests"
    var controls = ["shuffle", "random-init"]
    var value: Double = 0.5

    func run(_ context: ClaimContext) throws -> ClaimOutcome {
        struct Boom: Error, CustomStringConvertible { var description: String { "claim exploded" } }
        if context.parameters.bool("explode", default: false) { throw Boom() }
        let threshold = context.parameters.double("threshold", default: 0.5)
        let observed = context.subject == .model ? value : 0.01
        return ClaimOutcome(judging: [Criterion("observed ≥ threshold", observed: observed, passed: observed >= threshold)],
                            metrics: [Metric("score", layer: 1, value: observed), Metric("seed", value: Double(context.seed))])
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
        let runner = SuiteRunner(suite: parsed, registry: ClaimRegistry([claim]), resources: { _, _ in NoResources() },
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
        let report = try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: T-1, params: {explode: true}}\n"))
        #expect(report.run.results.map(\.verdict) == [.error])
        #expect(report.run.results[0].error == "claim exploded")
        #expect(report.exitCode == ExitCodes.correctness)
    }

    @Test func unknownClaimsAndControlsAreRejectedUpFront() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        #expect(throws: HarnessError.self) { try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: NOPE-1}\n")) }
        do {
            _ = try fixture.run(yaml: fixture.suite.yaml(claims: "  - {id: T-1, controls: [mirror]}\n"))
            Issue.record("expected an error")
        } catch let error as HarnessError {
            #expect(error.description.contains(":8: claim T-1 has no control 'mirror'"))
            #expect(error.exitCode == ExitCodes.badInput)
        }
        #expect(try fixture.store.runs().isEmpty, "nothing is recorded for a rejected suite")
    }
}
