import Claims
import Foundation
import Testing
import TestSupport
@testable import Harness
@testable import Recording

/// A run built in code: TD-1 (model + shuffle + random-init), TD-3 (model + random-init) and a claim
/// the report has no specific figure for, whose per-layer metric must still be drawn.
func reportRun(id: String, commit: String, time: Int64, model: String = "m0", threads: Int = 2, scale: Double = 1) -> RunRecord {
    func layers(_ name: String, unit: String, _ value: (Int) -> Double) -> [MetricRecord] {
        (0..<8).map { MetricRecord(name: name, layer: $0, unit: unit, value: value($0)) }
    }
    var environment = testEnvironment()
    environment.threads = threads
    let results = [
        ResultRecord(claimID: "TD-1", subject: "model", verdict: .supported, seed: 1, durationNS: 2_000_000_000,
                     notes: ["pass: R ≥ 0.7 (observed 0.84)", "pass: shuffle null median |r| ≤ 0.10 (observed 0.05)"],
                     metrics: layers("med_r", unit: "r") { 0.8 + 0.01 * Double($0) }
                        + [MetricRecord(name: "R", unit: "r", value: 0.84 * scale), MetricRecord(name: "null_shuffle", unit: "|r|", value: 0.05)]),
        ResultRecord(claimID: "TD-1", subject: "shuffle", verdict: .refuted, expectedVerdict: .refuted, seed: 1, durationNS: 300_000_000,
                     notes: ["fail: R ≥ 0.7 (observed 0.002)"],
                     metrics: layers("med_r", unit: "r") { _ in 0.002 } + [MetricRecord(name: "R", unit: "r", value: 0.002)]),
        ResultRecord(claimID: "TD-1", subject: "random-init", verdict: .informational, expectedVerdict: .informational, seed: 1,
                     durationNS: 1_000_000, notes: ["pass: R ≥ 0.7 (observed 0.96)"],
                     metrics: layers("med_r", unit: "r") { 0.5 + 0.06 * Double($0) } + [MetricRecord(name: "R", unit: "r", value: 0.96)]),
        ResultRecord(claimID: "TD-3", subject: "model", verdict: .supported, seed: 2, durationNS: 10_000_000, notes: ["pass: A ≥ 2 (observed 4.5)"],
                     metrics: layers("velocity", unit: "L2") { 20 * pow(1.4, Double($0)) } + layers("norm", unit: "L2") { 50 * Double($0 + 1) }
                        + [MetricRecord(name: "acceleration_ratio", unit: "ratio", value: 4.5)]),
        ResultRecord(claimID: "TD-3", subject: "random-init", verdict: .refuted, expectedVerdict: .refuted, seed: 2, durationNS: 10_000_000,
                     notes: ["fail: A ≥ 2 (observed 1.01)"],
                     metrics: layers("velocity", unit: "L2") { 10 + Double($0) } + layers("norm", unit: "L2") { sqrt(Double($0 + 1)) }
                        + [MetricRecord(name: "acceleration_ratio", unit: "ratio", value: 1.01)]),
        ResultRecord(claimID: "LoT-1", subject: "model", verdict: .supported, seed: 3, durationNS: 5_000_000, notes: [],
                     metrics: layers("participation_ratio", unit: "") { 15 / Double($0 + 1) }
                        + [MetricRecord(name: "two_points", layer: 0, value: 1), MetricRecord(name: "two_points", layer: 1, value: 2)]),
    ]
    return RunRecord(id: id, status: .complete, startedAt: Double(time) + 10, finishedAt: Double(time) + 20, suite: "smoke",
                     suiteSHA256: "s", modelSHA256: model, corporaSHA256: ["wikitext": "c"], masterSeed: 1,
                     argv: ["rbench", "run"], revision: RevisionInfo(inRepository: true, commitSHA: commit, branch: "main", commitTime: time),
                     environment: environment, results: results)
}

@Suite struct ReportTests {
    let run = reportRun(id: "run-3", commit: String(repeating: "c", count: 40), time: 3_000)

    @Test func pageHasEverySectionAndOneSVGPerFigure() throws {
        let verdicts = Comparator.compare(run: run, baseline: nil)
        let report = HTMLReport.render(run: run, verdicts: verdicts)
        let html = report.html
        for anchor in ["id=\"identity\"", "id=\"regressions\"", "id=\"verdicts\"", "id=\"claim-td-1\"", "id=\"claim-td-3\"", "id=\"claim-lot-1\""] {
            #expect(html.contains(anchor), "missing \(anchor)")
        }
        #expect(html.contains("cccccccccccc") && html.contains(">clean<"), "short sha and clean state on top")
        // TD-1 med_r, TD-3 velocity and norm, LoT-1 participation_ratio (generic); two_points has too few layers.
        let figureCount = html.components(separatedBy: "<figure ").count - 1
        #expect(figureCount == 4)
        #expect(html.components(separatedBy: "<svg ").count - 1 == figureCount)
        #expect(report.charts.count == figureCount)
        #expect(report.charts.map(\.fileName).contains("lot-1-participation_ratio.svg"))
        #expect(!html.contains("two_points per layer"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "no external resource or script")
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        #expect(html.components(separatedBy: "<section").count == html.components(separatedBy: "</section>").count)
        #expect(html.contains("log scale"), "TD-3 velocity is drawn on a log axis")
        #expect(html.contains("shuffle null"), "TD-1 draws the null value in the same axes")
    }

    @Test func regressionsAreListedWhenAVerdictIsNotPass() throws {
        let (baseline, _) = BaselineUpdate.apply(run: run, to: nil, reason: "test")
        var moved = run
        moved.results[0].metrics[0].value = 0.1
        let verdicts = Comparator.compare(run: moved, baseline: (baseline, "Baselines/smoke.txt", true))
        let html = HTMLReport.render(run: moved, verdicts: verdicts).html
        #expect(html.contains("class=\"findings\""))
        #expect(html.contains("med_r[0]"))
        let clean = HTMLReport.render(run: run, verdicts: Comparator.compare(run: run, baseline: (baseline, "b", true))).html
        #expect(!clean.contains("class=\"findings\"") && clean.contains("all pass"))
    }

    @Test func writesPageAndStandaloneSVGFiles() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let report = HTMLReport.render(run: run, verdicts: [])
        let index = try report.write(to: temp.url.appendingPathComponent("out"))
        #expect(FileManager.default.fileExists(atPath: index.path))
        for chart in report.charts {
            let text = try String(contentsOf: temp.url.appendingPathComponent("out").appendingPathComponent(chart.fileName), encoding: .utf8)
            #expect(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(text.contains("prefers-color-scheme") && text.hasSuffix("</svg>\n"))
        }
    }

    @Test func historySplitsRunsThatAreNotComparable() throws {
        let older = reportRun(id: "run-1", commit: String(repeating: "a", count: 40), time: 1_000, scale: 0.9)
        let middle = reportRun(id: "run-2", commit: String(repeating: "b", count: 40), time: 2_000, scale: 0.95)
        let otherModel = reportRun(id: "run-4", commit: String(repeating: "b", count: 40), time: 2_000, model: "m1")
        let otherClass = reportRun(id: "run-5", commit: String(repeating: "a", count: 40), time: 1_000, threads: 8)
        let figures = ReportHistory.figures(current: run, runs: [older, middle, otherModel, otherClass], baseline: nil)
        let r = try #require(figures.first { $0.id == "td-1-history-r" })
        let model = r.chart.series.filter { $0.label.hasPrefix("model") }
        #expect(model.count == 3, "one line per comparable group")
        #expect(model[0].points.map(\.x) == [0, 1, 2] && model[0].points.map(\.y) == [0.84 * 0.9, 0.84 * 0.95, 0.84])
        #expect(model[1].points.map(\.x) == [0] && model[2].points.map(\.x) == [1], "other groups in order of first appearance")
        #expect(r.caption.contains("model hash") && r.caption.contains("determinism class"))
        #expect(r.chart.xCategories?.count == 3 && r.chart.xCategories?[0].hasPrefix("aaaaaaa") == true)

        let single = ReportHistory.figures(current: run, runs: [older, middle], baseline: nil)
        #expect(single.first { $0.id == "td-1-history-r" }?.chart.series.filter { $0.label.hasPrefix("model") }.count == 1)
        #expect(single.allSatisfy { !$0.caption.contains("split") })
    }

    @Test func historyDrawsTheBaselineAndItsTolerance() throws {
        var (baseline, _) = BaselineUpdate.apply(run: run, to: nil, reason: "test")
        baseline = BaselineFile(header: baseline.header, entries: baseline.entries.map { entry in
            var entry = entry
            entry.tolerance = BaselineTolerance(abs: 0.01)
            return entry
        })
        let html = HTMLReport.render(run: run, verdicts: [], history: [], baseline: baseline).html
        #expect(html.contains("id=\"history\""))
        #expect(html.contains("baseline (model)") && html.contains("tolerance ±0.01"))
    }

    @Test func ticksAreRound() {
        let ticks = LineChart.niceTicks(0.03, 0.97, count: 6)
        #expect(zip(ticks, [0, 0.2, 0.4, 0.6, 0.8, 1.0]).allSatisfy { abs($0 - $1) < 1e-12 } && ticks.count == 6)
        #expect(LineChart.tickLabel(0.6000000000000001) == "0.6")
        #expect(LineChart.logTicks(low: 1, high: 3) == [10, 20, 50, 100, 200, 500, 1000])
    }

    @Test func longNumbersInNotesAreShortened() {
        #expect(ReportPage.roundingLongNumbers("pass: R ≥ 0.7 (observed 0.8419998926317291)") == "pass: R ≥ 0.7 (observed 0.842)")
        #expect(ReportPage.roundingLongNumbers("cross-unit null -0.0013730726782951385") == "cross-unit null -0.001373")
    }

    static let chromium = URL(fileURLWithPath: "/usr/bin/chromium")

    /// Headless Chromium renders the page without console errors and with every section in the DOM.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: chromium.path), "needs chromium (apt-get install chromium)"))
    func rendersInHeadlessChromium() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let index = try HTMLReport.render(run: run, verdicts: Comparator.compare(run: run, baseline: nil), history: []).write(to: temp.url)
        let result = try runProcess(Self.chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                                                    "--user-data-dir=\(temp.url.path)/profile", "--dump-dom", index.absoluteString])
        #expect(result.status == 0)
        #expect(!result.stderr.contains("CONSOLE"), "console messages: \(result.stderr)")
        for needle in ["id=\"identity\"", "id=\"verdicts\"", "id=\"claim-td-1\"", "id=\"history\"", "<polyline"] {
            #expect(result.stdout.contains(needle), "rendered DOM lacks \(needle)")
        }
    }

    @Test func everyShippedClaimIsDescribed() {
        for claim in ClaimCatalog.all {
            #expect(claim.summary?.isEmpty == false, "\(claim.id) has no summary")
            #expect(!claim.criteria.isEmpty, "\(claim.id) has no criteria")
        }
    }

    @Test func claimsAndExplainCommands() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let list = try runProcess(rbench, ["claims", "--json"], in: temp.url)
        #expect(list.status == 0 && list.stdout.contains("\"id\" : \"TD-1\"") && list.stdout.contains("random-init"))
        let explain = try runProcess(rbench, ["explain", "td-2"], in: temp.url)
        #expect(explain.status == 0 && explain.stdout.contains("Pass criteria") && explain.stdout.contains("Δρ"))
        let unknown = try runProcess(rbench, ["explain", "XX-9"], in: temp.url)
        #expect(unknown.status != 0 && unknown.stderr.contains("rbench claims"))
    }
}
