import Foundation
import Testing
import TestSupport
@testable import Recording

@Suite struct VerdictTests {
    let corr = MetricRecord(name: "corr", layer: 3, value: 0.1 + 0.2)

    func baseline(for run: RunRecord, tol: BaselineTolerance = .init(), verdict: RecordedVerdict = .supported,
                  sameClass: Bool = true) -> (file: BaselineFile, path: String, sameClass: Bool) {
        var (file, _) = BaselineUpdate.apply(run: run, to: nil, reason: "first")
        file = BaselineFile(header: file.header, entries: file.entries.map { entry in
            var entry = entry
            entry.tolerance = tol
            if entry.check.hasSuffix("/model") { entry.verdict = verdict }
            return entry
        })
        return (file, "B.jsonl", sameClass)
    }

    func outcome(_ verdicts: [MetricVerdict], _ metric: String) -> MetricVerdict? { verdicts.first { $0.metric == metric } }

    @Test func sameClassRequiresBitwiseEquality() {
        let run = testRun(results: [result(metrics: [corr])])
        let reference = baseline(for: run)
        let same = Comparator.compare(run: run, baseline: reference)
        #expect(outcome(same, "corr[3]")?.outcome == .pass)
        #expect(ExitCodes.findings(same, strict: true) == 0)

        let moved = testRun(results: [result(metrics: [MetricRecord(name: "corr", layer: 3, value: (0.1 + 0.2).nextUp)])])
        let verdicts = Comparator.compare(run: moved, baseline: reference)
        let changed = outcome(verdicts, "corr[3]")
        #expect(changed?.outcome == .changed && changed?.reason == "NONDETERMINISM_OR_NUMERIC_CHANGE" && changed?.ulpDistance == 1)
        #expect(ExitCodes.findings(verdicts, strict: false) == ExitCodes.correctness)
    }

    @Test func otherClassUsesTolerances() {
        let run = testRun(results: [result(metrics: [corr])])
        let nearby = testRun(threads: 1, results: [result(metrics: [MetricRecord(name: "corr", layer: 3, value: 0.3000001)])])
        let loose = Comparator.compare(run: nearby, baseline: baseline(for: run, tol: .init(abs: 1e-6), sameClass: false))
        #expect(outcome(loose, "corr[3]")?.outcome == .pass && outcome(loose, "corr[3]")?.reason == "WITHIN_TOLERANCE")
        let tight = Comparator.compare(run: nearby, baseline: baseline(for: run, tol: .init(ulp: 4), sameClass: false))
        #expect(outcome(tight, "corr[3]")?.outcome == .changed && outcome(tight, "corr[3]")?.reason == "OUT_OF_TOLERANCE")
    }

    @Test func changedInputsMakeTheBaselineStale() {
        let run = testRun(results: [result(metrics: [corr])])
        let otherModel = testRun(model: "bb", results: [result(metrics: [corr])])
        let verdicts = Comparator.compare(run: otherModel, baseline: baseline(for: run))
        #expect(outcome(verdicts, "corr[3]")?.outcome == .stale)
        #expect(ExitCodes.findings(verdicts, strict: false) == ExitCodes.baseline)
    }

    @Test func missingBaselineFailsOnlyWhenStrict() {
        let run = testRun(results: [result(metrics: [corr])])
        let verdicts = Comparator.compare(run: run, baseline: nil)
        #expect(outcome(verdicts, "corr[3]")?.outcome == .missing)
        #expect(ExitCodes.findings(verdicts, strict: false) == 0)
        #expect(ExitCodes.findings(verdicts, strict: true) == ExitCodes.baseline)
    }

    @Test func verdictLayerOverridesNumbers() {
        let supported = testRun(results: [result(metrics: [corr])])
        let refuted = testRun(results: [result(verdict: .refuted, metrics: [corr])])
        let flip = Comparator.compare(run: refuted, baseline: baseline(for: supported))
        #expect(outcome(flip, claimVerdictMetric)?.reason == "CLAIM_FLIP")
        #expect(outcome(flip, "corr[3]")?.outcome == .pass, "numbers equal, verdict flipped")
        #expect(ExitCodes.findings(flip, strict: false) == ExitCodes.correctness)

        let control = testRun(results: [result(subject: "shuffle", verdict: .supported, expected: .refuted, metrics: [corr])])
        let passed = Comparator.compare(run: control, baseline: nil)
        #expect(outcome(passed, claimVerdictMetric)?.reason == "CONTROL_PASSED")
        #expect(ExitCodes.findings(passed, strict: false) == ExitCodes.correctness)

        let errored = testRun(results: [ResultRecord(claimID: "TD-1", subject: "model", verdict: .error, seed: 1, durationNS: 1, error: "boom", metrics: [])])
        let error = Comparator.compare(run: errored, baseline: baseline(for: supported))
        #expect(outcome(error, claimVerdictMetric)?.reason == "CLAIM_ERROR")
        #expect(!error.contains { $0.reason == "METRIC_DISAPPEARED" })
    }

    @Test func metricMissingFromTheRunIsAChange() {
        let full = testRun(results: [result(metrics: [corr, MetricRecord(name: "extra", value: 1)])])
        let partial = testRun(results: [result(metrics: [corr])])
        let verdicts = Comparator.compare(run: partial, baseline: baseline(for: full))
        #expect(outcome(verdicts, "extra")?.reason == "METRIC_DISAPPEARED")
    }

    @Test func timingOutcomesAndExitBits() {
        func timing(_ samples: [Double]) -> RunRecord {
            testRun(results: [result(claim: "PERF", metrics: [MetricRecord(name: "t", unit: "s", value: samples[0], samples: samples)])])
        }
        let base = timing((0..<12).map { 1.0 + Double($0) * 0.001 })
        let slower = timing((0..<12).map { 1.3 + Double($0) * 0.001 })
        let faster = timing((0..<12).map { 0.7 + Double($0) * 0.001 })
        let same = timing((0..<12).map { 1.0 + Double($0) * 0.001 + 0.0005 })
        let noisy = timing([0.8, 1.3, 0.9, 1.25, 1.0, 1.2, 0.85, 1.3, 0.95, 1.15, 1.1, 1.05])
        func verdict(_ head: RunRecord) -> MetricVerdict { Comparator.compare(head: head, base: base).first { $0.metric == "t" }! }
        #expect(verdict(slower).outcome == .regress)
        #expect(ExitCodes.findings([verdict(slower)], strict: false) == ExitCodes.performance)
        #expect(verdict(faster).outcome == .improve)
        #expect(verdict(same).outcome == .pass)
        #expect(verdict(noisy).outcome == .inconclusive)
        #expect(ExitCodes.findings([verdict(noisy)], strict: false) == 0)
        #expect(ExitCodes.findings([verdict(noisy)], strict: true) == ExitCodes.inconclusive)
    }
}

extension VerdictTests {
    /// 2 threads vs OPENBLAS_NUM_THREADS=1: the case, max relative difference 4.6e-10.
    @Test func compareAndCheckShareOneToleranceRegimeAcrossClasses() throws {
        let base = testRun(id: "two-threads", results: [result(metrics: [corr, MetricRecord(name: "zero", value: 0)])])
        let head = testRun(id: "one-thread", threads: 1,
                           results: [result(metrics: [MetricRecord(name: "corr", layer: 3, value: (0.1 + 0.2) * (1 + 4.6e-10)),
                                                      MetricRecord(name: "zero", value: 0)])])
        let compared = Comparator.compare(head: head, base: base)
        #expect(outcome(compared, "corr[3]")?.outcome == .pass && outcome(compared, "corr[3]")?.reason == "WITHIN_TOLERANCE")
        #expect(ExitCodes.findings(compared, strict: false) == 0)

        // `check` of the same head against a baseline made from the base run: the same outcome.
        let (file, _) = BaselineUpdate.apply(run: base, to: nil, reason: "first")
        let checked = Comparator.compare(run: head, baseline: (file, "B.jsonl", false))
        #expect(checked.map(\.outcome) == compared.map(\.outcome))
        #expect(checked.map(\.reason) == compared.map(\.reason))

        // A tightened line in the baseline file tightens both.
        let tight = BaselineFile(header: file.header, entries: file.entries.map { entry in
            var entry = entry
            entry.tolerance = .init(ulp: 1)
            return entry
        })
        #expect(outcome(Comparator.compare(head: head, base: base, tolerances: tight), "corr[3]")?.outcome == .changed)
        #expect(outcome(Comparator.compare(run: head, baseline: (tight, "B.jsonl", false)), "corr[3]")?.outcome == .changed)

        // Same class stays bitwise whatever the tolerance.
        var sameClassHead = head
        sameClassHead.environment = base.environment
        #expect(outcome(Comparator.compare(head: sameClassHead, base: base), "corr[3]")?.reason == "NONDETERMINISM_OR_NUMERIC_CHANGE")
    }

    @Test func theRegimeSaysWhatWasComparedAndHow() {
        let base = testRun(id: "base", results: [result(metrics: [corr])])
        let other = testRun(id: "other", threads: 1, results: [result(metrics: [corr])])
        let (file, _) = BaselineUpdate.apply(run: base, to: nil, reason: "first")
        #expect(ComparisonRegime.of(run: base, baseline: (file, "B.jsonl", true)).kind == .bitwise)
        let cross = ComparisonRegime.of(run: other, baseline: (file, "B.jsonl", false))
        #expect(cross.kind == .tolerance && cross.summary.hasPrefix("regime: cross-class tolerance") && cross.summary.contains("B.jsonl"))
        let none = ComparisonRegime.of(run: base, baseline: nil)
        #expect(none.kind == .none && none.summary.hasPrefix("no baseline: nothing was compared; `rbench baseline init --suite smoke`"))
        #expect(none.summary.contains("--strict"))
        let pair = ComparisonRegime.of(head: other, base: base, tolerances: nil)
        #expect(pair.kind == .tolerance && pair.summary.contains("default tolerances abs 1e-06, rel 0.0001"))
        #expect(ComparisonRegime.of(head: base, base: base, tolerances: nil).summary.hasPrefix("regime: bitwise"))
    }
}

@Suite struct TimingStatisticsTests {
    @Test func mannWhitneyMatchesKnownExactValues() {
        // SciPy's documented example: U1 = 17, exact two-sided p = 0.1111.
        let males = [19.0, 22, 16, 29, 24], females = [20.0, 11, 17, 12]
        #expect(TimingStatistics.uStatistic(males, females) == 17)
        let (p, exact) = TimingStatistics.mannWhitneyP(males, females)
        #expect(exact && abs(p - 1.0 / 9.0) < 1e-12)
        // Complete separation of 5 vs 5: p = 2 / C(10, 5).
        let separated = TimingStatistics.mannWhitneyP([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])
        #expect(abs(separated.p - 2.0 / 252.0) < 1e-15)
        // Ties switch to the normal approximation with tie correction.
        #expect(TimingStatistics.mannWhitneyP([1, 1, 2, 3], [1, 2, 2, 2]).exact == false)
    }

    @Test func hodgesLehmannAndItsInterval() {
        #expect(TimingStatistics.hodgesLehmann([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == 5)
        // n = m = 10 at 95%: the lower critical value of U is 23, so the interval is [d(24), d(77)].
        let x = (1...10).map(Double.init), y = (1...10).map { Double($0) + 0.5 }
        let d = y.flatMap { a in x.map { a - $0 } }.sorted()
        let (low, high) = TimingStatistics.shiftInterval(sortedDifferences: d, m: 10, n: 10, confidence: 0.95)
        #expect(low == d[23] && high == d[76])
        let distribution = TimingStatistics.exactUDistribution(m: 3, n: 2)
        #expect(distribution.map { $0 * 10 } == [1, 1, 2, 2, 2, 1, 1])
    }
}
