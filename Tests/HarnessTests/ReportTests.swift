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

    /// A run with the metrics the paper figures read (LoT-1/2/3, TD-7, SR-1, SR-slice) and one generic metric
    /// whose unit says what its layer slot holds.
    static func paperFigureRun() -> RunRecord {
        func metric(_ name: String, _ layer: Int?, _ unit: String, _ value: Double) -> MetricRecord {
            MetricRecord(name: name, layer: layer, unit: unit, value: value)
        }
        func subject(_ claim: String, _ subject: String, _ metrics: [MetricRecord]) -> ResultRecord {
            ResultRecord(claimID: claim, subject: subject, verdict: subject == "model" ? .supported : .refuted,
                         expectedVerdict: subject == "model" ? nil : .refuted, seed: 1, durationNS: 1_000_000, notes: [], metrics: metrics)
        }
        let ks = [16, 32, 64, 128, 256, 384]
        func lot2(_ scale: Double, baseline: Double) -> [MetricRecord] {
            var metrics: [MetricRecord] = []
            for k in ks {
                let ratio = scale * 16 / Double(k)
                metrics.append(metric("B_ratio", k, "ratio", ratio))
                metrics.append(metric("B_mean_kl", k, "nats", baseline * ratio))
                metrics.append(metric("heldout_B_ratio", k, "ratio", ratio * 1.25))
            }
            for k in [16, 64, 256] { metrics.append(metric("A_ratio", k, "ratio", scale * 8 / Double(k))) }
            metrics.append(metric("baseline_median_kl", nil, "nats", baseline))
            return metrics
        }
        func td7(_ gain: Double) -> [MetricRecord] {
            var metrics: [MetricRecord] = []
            for l in [0, 14] {
                for k in (l + 1)...30 {
                    metrics.append(metric(TD7PerturbationRecovery.recoveryMetricName(injection: l), k,
                                          "‖Δ‖/‖δ‖ (layer = downstream residual)", pow(gain, Double(k - l))))
                }
            }
            for l in [0, 7, 14] { metrics.append(metric("kappa_shift", l, "fraction", gain * Double(l) / 14)) }
            return metrics
        }
        let probabilities = LoT3GaussianResiduals.quantileProbabilities
        func lot3(_ tail: Double) -> [MetricRecord] {
            let gaussianUnit = "standard normal quantile (layer = quantile index)"
            let residualUnit = "standardized residual quantile (layer = quantile index)"
            var metrics: [MetricRecord] = []
            for q in probabilities.indices {
                let z = Double(q - 9) / 3
                metrics.append(metric("qq_gaussian", q, gaussianUnit, z))
                metrics.append(metric("qq_t15", q, residualUnit, tail * z))
            }
            for t in 1...5 { metrics.append(metric("A2_tau1", t, "ln variance", 0.2 * Double(t + 1))) }
            for t in 1...4 { metrics.append(metric("A2_tau2", t, "ln variance", 0.2 * Double(t + 2))) }
            metrics.append(metric("lambda_interior", nil, "nats/layer", 0.2))
            metrics.append(metric("log_alpha_interior", nil, "nats", 0))
            return metrics
        }
        func lot1(_ radius: Double) -> [MetricRecord] {
            var metrics: [MetricRecord] = []
            for s in 0..<2 {
                for t in 1...8 {
                    let angle = Double(t + s)
                    metrics.append(metric("path\(s)_u1", t, "projection on aligned ψ1(t) (layer = t)", radius * cos(angle)))
                    metrics.append(metric("path\(s)_u2", t, "projection on aligned ψ2(t) (layer = t)", radius * sin(angle)))
                }
            }
            for k in LoT1LowRankTrajectories.spectrumRanks.prefix(8) {
                metrics.append(metric("spectrum_t08", k, "σ_k/σ₁ (layer = rank k)", 1 / Double(k)))
            }
            return metrics
        }
        func sr3(similar: Double, dissimilar: Double) -> [MetricRecord] {
            [("similar", similar), ("dissimilar", dissimilar)].flatMap { group, median in
                [metric("sharpness_median_\(group)", nil, "sharpness", median),
                 metric("sharpness_q25_\(group)", nil, "sharpness", median - 0.2),
                 metric("sharpness_q75_\(group)", nil, "sharpness", median + 0.3)]
            }
        }
        let sr1Unit = "d̂ (layer = α index j, α = j/4)"
        let anchorUnit = "anchor 0/1/2 (layer = β-row·3 + α-column, α, β from −0.25 to 1.25)"
        let anchors = (0..<9).map { metric("nearest_anchor", $0, anchorUnit, Double($0 % 3)) }
        let anchorsRI = (0..<9).map { metric("nearest_anchor_ri", $0, anchorUnit, Double($0 / 3)) }
        let results: [ResultRecord] = [
            subject("LoT-2", "model", lot2(1, baseline: 6.5)), subject("LoT-2", "random-init", lot2(0.8, baseline: 0.2)),
            subject("TD-7", "model", td7(0.9)), subject("TD-7", "random-init", td7(1.0)),
            subject("LoT-3", "model", lot3(1.3)), subject("LoT-3", "random-init", lot3(1.0)),
            subject("LoT-1", "model", lot1(100)), subject("LoT-1", "random-init", lot1(1)),
            subject("SR-1", "model", (0...4).map { metric("dhat_mean", $0, sr1Unit, Double($0 * $0) / 16) }),
            subject("SR-1", "random-init", (0...4).map { metric("dhat_mean", $0, sr1Unit, Double($0) / 4) }),
            subject("SR-slice", "model", anchors + anchorsRI),
            subject("SR-3", "model", sr3(similar: 1.05, dissimilar: 3.45)),
            subject("SR-3", "shuffled-labels", sr3(similar: 1.8, dissimilar: 1.4)),
            subject("XX-9", "model", [32, 64, 128].map { metric("future_metric", $0, "bits (layer = K)", Double($0)) }),
        ]
        var run = reportRun(id: "run-p", commit: String(repeating: "d", count: 40), time: 4_000)
        run.results = results
        return run
    }

    @Test func paperFiguresDrawTheirOwnAxes() throws {
        let run = Self.paperFigureRun()
        func figures(_ claim: String) -> [ReportFigure] {
            let set = ClaimFigures.figures(claim: claim, results: run.results.filter { $0.claimID == claim })
            return set.primary + set.more
        }
        let lot2 = figures("LoT-2")
        let ratio = try #require(lot2.first { $0.id == "lot-2-kl_ratio" })
        #expect(ratio.chart.xLabel == "K (singular directions kept)" && ratio.chart.logX && ratio.chart.logY)
        #expect(ratio.chart.references.contains { $0.low == 1 && $0.high == 1 }, "the unrelated-pairs baseline at ratio 1")
        #expect(Set(ratio.chart.series.map(\.label)) == ["model · A", "model · B", "random-init · A", "random-init · B"])
        #expect(lot2.allSatisfy { $0.chart.xLabel.hasPrefix("K") }, "no LoT-2 chart calls K a layer")
        #expect(try #require(lot2.first { $0.id == "lot-2-kl_nats" }).chart.references.map(\.low) == [6.5, 0.2])

        let recovery = try #require(figures("TD-7").first { $0.id == "td-7-recovery" })
        let early = try #require(recovery.chart.series.first { $0.label == "random-init · l = 0" })
        #expect(early.dashed && early.points.count == 31)
        #expect(early.points[0].x == 0 && early.points[0].y == 1, "the curve starts at 1 at the injection")
        #expect(recovery.chart.series.filter { !$0.dashed }.count == 2)
        #expect(figures("TD-7").first { $0.id == "td-7-kappa" }?.chart.xLabel == "injection residual l")

        // SR-3 records scalars only; its figure joins each subject's two group medians.
        let sr3 = try #require(figures("SR-3").first { $0.id == "sr-3-groups" })
        let medians = try #require(sr3.chart.series.first { $0.label == "model median" })
        #expect(medians.points.map(\.y) == [1.05, 3.45] && medians.points.map(\.x) == [1, 2])
        #expect(sr3.chart.series.contains { $0.label == "shuffled-labels IQR, dissimilar" && $0.dashed })
        let lot3 = figures("LoT-3")
        let qq = try #require(lot3.first { $0.id == "lot-3-qq" })
        #expect(qq.chart.diagonal != nil && qq.chart.series.count == 2)
        let expectedX: [Double] = (0..<19).map { Double($0 - 9) / 3 }
        #expect(qq.chart.series[0].points.map(\.x) == expectedX)
        // The histogram's steps hold the probability between consecutive quantiles: with residual
        // quantiles equal to the Gaussian's (random-init here) the mass is Φ(3) − Φ(−3).
        let histogram = try #require(lot3.first { $0.id == "lot-3-histogram" })
        let steps = try #require(histogram.chart.series.first { $0.label == "random-init" }).points
        let mass = stride(from: 0, to: steps.count, by: 2).map { (steps[$0 + 1].x - steps[$0].x) * steps[$0].y }.reduce(0, +)
        #expect(abs(mass - (0.5 * erfc(-3 / 2.squareRoot()) - 0.5 * erfc(3 / 2.squareRoot()))) < 1e-12)
        #expect(histogram.chart.series.contains { $0.label == "standard normal" })
        let a2 = try #require(lot3.first { $0.id == "lot-3-a2" })
        #expect(a2.chart.series.first { $0.label == "model pairs" }?.points.count == 9)
        #expect(a2.chart.series.contains { $0.label.hasPrefix("model fit λ = 0.2") && $0.points.count == 2 })

        let lot1 = figures("LoT-1")
        let paths = try #require(lot1.first { $0.id == "lot-1-paths-model" })
        #expect(paths.chart.connectInOrder && paths.chart.series[0].points.count == 8)
        #expect(abs(paths.chart.series[0].points[0].x - 100 * cos(1)) < 1e-12, "points in layer order, x = ψ₁ projection")
        #expect(lot1.contains { $0.id == "lot-1-paths-random-init" } && lot1.contains { $0.id == "lot-1-spectrum" && $0.chart.logX })

        let sr1 = try #require(figures("SR-1").first)
        #expect(sr1.chart.diagonal != nil && sr1.chart.series.allSatisfy { $0.points.map(\.x) == [0, 0.25, 0.5, 0.75, 1] })

        let slice = try #require(figures("SR-slice").first)
        let svg = slice.svg(standalone: true)
        #expect(slice.heatMap?.panels.map(\.size) == [3, 3])
        #expect(svg.components(separatedBy: "class=\"cell k").count - 1 == 9 + 9 + 3, "two 3×3 panels and a 3-entry legend")

        let generic = try #require(figures("XX-9").first)
        #expect(generic.chart.xLabel == "K" && generic.chart.logX && generic.chart.yLabel == "future_metric (bits)")

        let html = HTMLReport.render(run: run, verdicts: []).html
        #expect(!html.contains("<script") && html.contains("log₂ scale") && html.contains("Gaussian (y = x)"))
    }

    @Test func unitsNameTheLayerSlot() {
        #expect(ClaimFigures.unitParts("d̂ (layer = α index j, α = j/7)") == ("d̂", "α index j, α = j/7"))
        #expect(ClaimFigures.unitParts("L2") == ("L2", nil))
        #expect(ClaimFigures.xAxis(claim: "LoT-2", name: "heldout_B_ratio", unit: "ratio") == ("K (singular directions kept)", true))
        #expect(ClaimFigures.xAxis(claim: "TD-3", name: "norm", unit: "L2") == ("layer", false))
        #expect(LineChart.powerOfTwoTicks(16, 512) == [16, 32, 64, 128, 256, 512])
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
            #expect(!claim.uncertainty.isEmpty, "\(claim.id) does not say how its intervals are made")
        }
    }

    @Test func claimsAndExplainCommands() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let list = try runProcess(rbench, ["claims", "--json"], in: temp.url)
        #expect(list.status == 0 && list.stdout.contains("\"id\" : \"TD-1\"") && list.stdout.contains("random-init"))
        let explain = try runProcess(rbench, ["explain", "td-2"], in: temp.url)
        #expect(explain.status == 0 && explain.stdout.contains("Criteria") && explain.stdout.contains("delta_rho_excl_min") && explain.stdout.contains("Intervals"))
        let unknown = try runProcess(rbench, ["explain", "XX-9"], in: temp.url)
        #expect(unknown.status != 0 && unknown.stderr.contains("rbench claims"))
    }
}

@Suite("claim × model matrix")
struct VerdictMatrixTests {
    @Test("the same model through another engine gets its own column, named by the engine")
    func engineIsAColumn() {
        let native = reportRun(id: "native-old", commit: String(repeating: "a", count: 40), time: 1_000)
        let nativeNew = reportRun(id: "native-new", commit: String(repeating: "b", count: 40), time: 3_000)
        var remote = reportRun(id: "transformers", commit: String(repeating: "b", count: 40), time: 2_000)
        remote.environment.engine = EngineRecord(name: "transformers", version: "transformers 5.24.0, torch 2.13.0+cpu",
                                                 device: "cpu", dtype: "float32", protocolVersion: 1)
        remote.results[0].verdict = .inconclusive
        let other = reportRun(id: "other-model", commit: String(repeating: "b", count: 40), time: 2_500, model: "m1")
        let columns = VerdictMatrix.latestPerColumn(newestFirst: [nativeNew, other, remote, native])
        #expect(columns.map(\.id) == ["transformers", "other-model", "native-new"])
        let table = VerdictMatrix.table(columns)
        #expect(table.contains("via transformers on cpu"))
        let td1 = table.split(separator: "\n").first { $0.hasPrefix("TD-1/model") }.map(String.init) ?? ""
        #expect(td1.contains("inconclusive") && td1.contains("supported"), "\(td1)")
    }
}
