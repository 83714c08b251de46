import Foundation
import Testing
import TestSupport
@testable import Harness
@testable import Recording

/// `--json` on the listing commands, and histories that split where runs are not comparable.
@Suite struct CLIJSONTests {
    /// Runs at two commits; the third changes the suite definition (another suite hash) at the second commit.
    func store(in temp: TemporaryDirectory) throws -> [RunRecord] {
        let store = try ResultStore(path: temp.path("results/rbench.sqlite").path)
        let runs = [("run-a", "a", "s1", 1.0, Int64(100)), ("run-b", "b", "s1", 2.0, Int64(200)), ("run-c", "b", "s2", 3.0, Int64(200))].map {
            id, commit, suiteHash, value, time in
            RunRecord(id: id, status: .complete, startedAt: Double(time) + value, suite: "tiny", suiteSHA256: suiteHash,
                      modelSHA256: "m", corporaSHA256: ["wikitext": "w"], masterSeed: 1, argv: [],
                      revision: RevisionInfo(inRepository: true, commitSHA: String(repeating: commit, count: 40), commitTime: time),
                      environment: testEnvironment(),
                      results: [ResultRecord(claimID: "T-1", subject: "model", verdict: .supported, seed: 1, durationNS: 1,
                                             metrics: [MetricRecord(name: "R", unit: "r", value: value)])])
        }
        for run in runs { try store.importRun(run) }
        return runs
    }

    @Test func historySplitsOnSuiteHashAndSaysWhy() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        _ = try store(in: temp)
        let json = try runProcess(rbench, ["history", "T-1/model:R", "--json"], in: temp.url)
        #expect(json.status == 0, "\(json.stderr)")
        let series = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(series.count == 2, "a changed suite definition is never joined to the old line")
        #expect((series[0]["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double } == [1, 2])
        #expect((series[1]["points"] as? [[String: Any]])?.compactMap { $0["value"] as? Double } == [3])
        #expect((series[1]["differsIn"] as? [String])?.first?.hasPrefix("suite hash") == true)

        let table = try runProcess(rbench, ["history", "T-1/model:R"], in: temp.url)
        #expect(table.stdout.contains("series 2: T-1/model, model m — not joined: differs in suite hash (s2 vs s1)"), "\(table.stdout)")
    }

    @Test func runsAndBaselineShowPrintJSON() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let runs = try store(in: temp)
        let listed = try runProcess(rbench, ["runs", "--json"], in: temp.url)
        #expect(listed.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(entries.compactMap { $0["id"] as? String } == ["run-c", "run-b", "run-a"], "newest first")
        #expect(entries.first?["status"] as? String == "complete" && entries.first?["results"] as? Int == 1)

        let url = BaselineFile.url(in: temp.path("Baselines"), suite: "tiny", determinismClass: testEnvironment().determinismClass)
        try BaselineUpdate.apply(run: runs[2], to: nil, reason: "initial").file.write(to: url)
        let shown = try runProcess(rbench, ["baseline", "show", "--suite", "tiny", "--json"], in: temp.url)
        #expect(shown.status == 0, "\(shown.stderr)")
        let files = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])
        let lines = try #require(files.first?["entries"] as? [[String: Any]])
        #expect(files.count == 1 && lines.count == 1 && lines[0]["metric"] as? String == "R" && lines[0]["value"] as? Double == 3)

        let explained = try runProcess(rbench, ["explain", "TD-1", "--json"], in: temp.url)
        let explanation = try #require(try JSONSerialization.jsonObject(with: Data(explained.stdout.utf8)) as? [String: Any])
        #expect(explanation["shipped"] as? Bool == true && (explanation["criteria"] as? [[String: Any]])?.isEmpty == false)
    }

    @Test func everySubcommandHelpHasExamples() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        for command in ["run", "check", "runs", "history", "compare", "baseline", "baseline show", "baseline update", "baseline init",
                        "import", "report", "claims", "explain", "models", "fetch", "trace", "tokenize", "generate", "bench"] {
            let help = try runProcess(rbench, command.split(separator: " ").map(String.init) + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("Examples:"), "`rbench \(command) --help` has no examples")
        }
    }

    @Test func reportHistorySplitsOnSuiteHash() {
        let current = reportRun(id: "run-3", commit: String(repeating: "c", count: 40), time: 3_000)
        var redefined = reportRun(id: "run-2", commit: String(repeating: "b", count: 40), time: 2_000)
        redefined.suiteSHA256 = "another-suite"
        let figures = ReportHistory.figures(current: current, runs: [redefined], baseline: nil)
        let r = figures.first { $0.id == "td-1-history-r" }
        #expect(r?.chart.series.filter { $0.label.hasPrefix("model") }.count == 2)
        #expect(r?.caption.contains("suite hash") == true)
    }
}
