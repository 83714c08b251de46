import Foundation
import Testing
import TestSupport
@testable import Harness
@testable import Recording

/// Runs the built `rbench` and checks exit codes as the shell sees them.
@Suite struct CLITests {
    let rbench: URL? = builtRBench()

    func call(_ arguments: [String], in directory: URL) throws -> ProcessResult {
        try runProcess(try #require(rbench, "rbench must be built next to the test bundle"), arguments, in: directory)
    }

    @Test func checkExitCodesForEveryBaselineOutcome() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let root = fixture.suite.temp.url
        let report = try fixture.run()
        let args = ["check", "--db", "results/rbench.sqlite", "--baselines", "Baselines"]

        #expect(try call(args, in: root).status == 0, "missing baseline is not a failure")
        #expect(try call(args + ["--strict"], in: root).status == 4)

        let url = BaselineFile.url(in: fixture.baselines, suite: "tiny", determinismClass: report.run.environment.determinismClass)
        let (good, _) = BaselineUpdate.apply(run: report.run, to: nil, reason: "initial")
        try good.write(to: url)
        let pass = try call(args + ["--strict", "--json", "--junit", "junit.xml", "--markdown", "summary.md"], in: root)
        #expect(pass.status == 0)
        #expect(pass.stdout.contains("\"schema\" : 1") && pass.stdout.contains("\"exitCode\" : 0"))
        let junit = try String(contentsOf: root.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.components(separatedBy: "<testcase").count - 1 == report.verdicts.count)
        #expect(try String(contentsOf: root.appendingPathComponent("summary.md"), encoding: .utf8).contains("no findings"))

        var moved = report.run
        moved.results[0].metrics[0].value = 0.75
        try BaselineUpdate.apply(run: moved, to: nil, reason: "other").file.write(to: url)
        let changed = try call(args, in: root)
        #expect(changed.status == 1)
        #expect(changed.stdout.hasPrefix("outcome") && changed.stdout.split(separator: "\n")[1].hasPrefix("changed"), "worst first")

        var stale = good
        stale.header.modelSHA256 = String(repeating: "0", count: 64)
        try stale.write(to: url)
        #expect(try call(args, in: root).status == 4)

        try (good.serialized() + "{\"check\": 1}\n").write(to: url, atomically: true, encoding: .utf8)
        let malformed = try call(args, in: root)
        #expect(malformed.status == 65)
        // The bad line comes after the header, the reason lines and every entry.
        let badLine = good.serialized().split(separator: "\n").count + 1
        #expect(malformed.stderr.contains("\(url.lastPathComponent):\(badLine): unknown key") || malformed.stderr.contains(":\(badLine):"), "\(malformed.stderr)")

        #expect(try call(["check", "--bogus"], in: root).status == 64)
        #expect(try call(["check", "no-such-run", "--db", "results/rbench.sqlite"], in: root).status == 64)
    }

    @Test func compareGatesOnPerformanceAndCorrectness() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try ResultStore(path: temp.path("r.sqlite").path)
        func record(_ id: String, scale: Double, value: Double) -> RunRecord {
            RunRecord(id: id, status: .complete, suite: "perf", suiteSHA256: "s", modelSHA256: "m", corporaSHA256: [:],
                      masterSeed: 1, argv: [], revision: .outsideRepository, environment: testEnvironment(),
                      results: [ResultRecord(claimID: "P-1", subject: "model", verdict: .informational, seed: 1, durationNS: 1,
                                             metrics: [MetricRecord(name: "time", unit: "s", value: scale,
                                                                    samples: (0..<12).map { scale + Double($0) * 0.001 }),
                                                       MetricRecord(name: "loss", value: value)])])
        }
        try store.importRun(record("base-run", scale: 1.0, value: 2))
        try store.importRun(record("slow-run", scale: 1.5, value: 2))
        try store.importRun(record("slow-changed", scale: 1.5, value: 3))
        let db = ["--db", temp.path("r.sqlite").path]
        #expect(try call(["compare", "base-run", "slow-run"] + db, in: temp.url).status == 0, "no --gate, no exit code")
        #expect(try call(["compare", "base-run", "slow-run", "--gate"] + db, in: temp.url).status == 2)
        #expect(try call(["compare", "base-run", "slow-changed", "--gate"] + db, in: temp.url).status == 3)
        #expect(try call(["compare", "base-run", "base-run", "--gate"] + db, in: temp.url).status == 0)
    }

    @Test func runRejectsUnknownClaimsClearly() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        try fixture.temp.write("Suites/tiny.yaml", fixture.yaml())
        let result = try call(["run", "--suite", "tiny", "--models-dir", "models", "--corpora", "corpora", "--db", "results/x.sqlite"], in: fixture.temp.url)
        #expect(result.status == 65)
        #expect(result.stderr.contains("Suites/tiny.yaml:8: key 'claims[0].id': unknown claim 'T-1'"))
        let malformed = try call(["run", "--suite", "Suites/missing.yaml"], in: fixture.temp.url)
        #expect(malformed.status == 65 && malformed.stderr.contains("Suites/missing.yaml"))
    }

    @Test func baselineUpdateAtHeadAndImport() throws {
        let repo = try TemporaryGitRepository()
        defer { repo.remove() }
        try repo.commit("README", "x\n")
        let store = try ResultStore(path: repo.url.appendingPathComponent("results/rbench.sqlite").path)
        var run = RunRecord(id: "head-run", status: .complete, suite: "tiny", suiteSHA256: "s", modelSHA256: "m", corporaSHA256: [:],
                            masterSeed: 1, argv: [], revision: try RevisionInfo.read(at: repo.url), environment: testEnvironment(),
                            results: [ResultRecord(claimID: "T-1", subject: "model", verdict: .supported, seed: 1, durationNS: 1,
                                                   metrics: [MetricRecord(name: "a", value: 1), MetricRecord(name: "b", value: 2)])])
        try store.importRun(run)
        try RunFile.write(run, to: repo.url.appendingPathComponent("results/runs"))

        let update = try call(["baseline", "update", "--suite", "tiny", "--reason", "first"], in: repo.url)
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout.contains("2 line(s) changed"))
        let file = BaselineFile.url(in: repo.url.appendingPathComponent("Baselines"), suite: "tiny", determinismClass: testEnvironment().determinismClass)
        #expect(try BaselineFile.load(file).entries.count == 2)
        #expect(try call(["check"], in: repo.url).status == 0)

        // The tree is now dirty (the new baseline file is untracked, README edited): refused without --allow-dirty.
        try repo.directory.write("README", "y\n")
        let refused = try call(["baseline", "update", "--suite", "tiny", "--reason", "again"], in: repo.url)
        #expect(refused.status == 64 && refused.stderr.contains("dirty"))

        run.id = "unused"
        let imported = try call(["import", "--db", "rebuilt.sqlite", "results/runs"], in: repo.url)
        #expect(imported.status == 0 && imported.stdout.contains("imported 1 of 1"))
        #expect(try call(["runs", "--db", "rebuilt.sqlite"], in: repo.url).stdout.contains("head-run"))
        #expect(try call(["history", "T-1/model:b", "--db", "rebuilt.sqlite"], in: repo.url).stdout.contains("2.0"))
    }

    @Test func baselineMigrateRewritesSchemaTwoWithTheSameLinesAndLongUpdatesAreSummarized() throws {
        let repo = try TemporaryGitRepository()
        defer { repo.remove() }
        try repo.commit("README", "x\n")
        let header = #"{"schema":2,"suite":"tiny","determinism_class":"c0ffee","class_fields":{},"model_sha256":"m","corpus_sha256":{},"suite_sha256":"s"}"#
        let lines = (0..<3).map { #"{"check":"T-1/model","metric":"m\#($0)","value":0.5,"bits":"3fe0000000000000","tol":{"abs":0,"rel":0,"ulp":0},"verdict":"supported","epoch":1,"reason":"the first reason, long enough to matter","set_by":"aaaa"}"# }
        try repo.directory.write("Baselines/claims/tiny/c0ffee.jsonl", ([header] + lines).joined(separator: "\n") + "\n")
        let path = repo.url.appendingPathComponent("Baselines/claims/tiny/c0ffee.jsonl")
        let before = try BaselineFile.load(path)
        let migrated = try call(["baseline", "migrate", "--suite", "tiny"], in: repo.url)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("schema 2 → 3, 3 lines"))
        let after = try BaselineFile.load(path)
        #expect(after.entries == before.entries && after.header.schema == 3)
        #expect(try String(contentsOf: path, encoding: .utf8).components(separatedBy: "the first reason").count == 2)
        #expect(try call(["baseline", "migrate", "--suite", "none"], in: repo.url).status == 65)

        // A first baseline of many lines prints a count per check, not every line.
        let store = try ResultStore(path: repo.url.appendingPathComponent("results/rbench.sqlite").path)
        let metrics = (0..<60).map { MetricRecord(name: "x", layer: $0, value: Double($0)) }
        let run = RunRecord(id: "many", status: .complete, suite: "wide", suiteSHA256: "s", modelSHA256: "m", corporaSHA256: [:],
                            masterSeed: 1, argv: [], revision: try RevisionInfo.read(at: repo.url), environment: testEnvironment(),
                            results: [ResultRecord(claimID: "T-1", subject: "model", verdict: .supported, seed: 1, durationNS: 1, metrics: metrics),
                                      ResultRecord(claimID: "T-1", subject: "shuffle", verdict: .refuted, seed: 1, durationNS: 1, metrics: [metrics[0]])])
        try store.importRun(run)
        let update = try call(["baseline", "update", "--suite", "wide", "--run", "many", "--allow-dirty", "--reason", "first"], in: repo.url)
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout.contains("61 line(s) changed") && update.stdout.contains("  T-1/model: 60 line(s)")
                && update.stdout.contains("  T-1/shuffle: 1 line(s)") && !update.stdout.contains("x[59]"))
    }
}
