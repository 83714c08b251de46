import Evidence
import Foundation
import Testing

@Suite("Criteria judged over their intervals, and the verdict rule")
struct VerdictRuleTests {
    let atLeast = CriterionDefinition("R_min", statistic: "R", .atLeast, 0.7, "median correlation")

    func interval(_ low: Double, _ high: Double) -> Interval {
        Interval(low: low, high: high, level: 0.95, method: .bootstrap, replicates: 1000, sampleSize: 200, unit: "prompts")
    }

    @Test("held, failed and undecided follow where the whole interval lies")
    func outcomes() {
        #expect(atLeast.judge(observed: 0.84, interval: interval(0.80, 0.88)).outcome == .held)
        #expect(atLeast.judge(observed: 0.60, interval: interval(0.55, 0.65)).outcome == .failed)
        #expect(atLeast.judge(observed: 0.72, interval: interval(0.65, 0.78)).outcome == .undecided)
        // An estimate outside its own (percentile) interval cannot hold.
        #expect(atLeast.judge(observed: 0.69, interval: interval(0.71, 0.80)).outcome == .undecided)
        // Without an interval the point estimate decides.
        #expect(atLeast.judge(observed: 0.7, interval: nil).outcome == .held)
        #expect(atLeast.judge(observed: 0.69, interval: nil).outcome == .failed)
    }

    @Test("a bootstrap of fewer than 20 units decides nothing; the t-based and exact intervals have no floor")
    func coverageFloor() {
        func bootstrap(_ n: Int) -> Interval {
            Interval(low: 0.80, high: 0.88, level: 0.95, method: .bootstrap, replicates: 1000, sampleSize: n, unit: "prompts")
        }
        #expect(atLeast.judge(observed: 0.84, interval: bootstrap(6)).outcome == .undecided)
        #expect(atLeast.judge(observed: 0.84, interval: bootstrap(19)).outcome == .undecided)
        #expect(atLeast.judge(observed: 0.84, interval: bootstrap(20)).outcome == .held)
        // A clear failure from 6 units is undecided too: 6 samples cannot refute either.
        #expect(atLeast.judge(observed: 0.2, interval: Interval(low: 0.1, high: 0.3, level: 0.95, method: .bootstrap,
                                                                 replicates: 1000, sampleSize: 6, unit: "prompts")).outcome == .undecided)
        let jackknife = Interval(low: 0.80, high: 0.88, level: 0.95, method: .jackknife, replicates: 10, sampleSize: 10, unit: "trajectories")
        #expect(jackknife.reachesNominalCoverage && atLeast.judge(observed: 0.84, interval: jackknife).outcome == .held)
    }

    @Test("NaN and unbounded intervals are undecided, never a pass")
    func undefined() {
        #expect(atLeast.judge(observed: .nan, interval: nil).outcome == .undecided)
        #expect(atLeast.judge(observed: 0.9, interval: interval(-.infinity, .infinity)).outcome == .undecided)
        #expect(atLeast.judge(observed: 0.9, interval: interval(.nan, 0.95)).outcome == .undecided)
    }

    @Test("strict and non-strict comparisons differ only at the threshold")
    func comparisons() {
        let above = CriterionDefinition("gap_min", statistic: "gap", .greaterThan, 0, "gap")
        #expect(above.judge(observed: 0, interval: nil).outcome == .failed)
        #expect(above.judge(observed: 0.1, interval: interval(0, 0.2)).outcome == .undecided)
        let below = CriterionDefinition("p_max", statistic: "p", .lessThan, 0.05, "p")
        #expect(below.judge(observed: 0.01, interval: interval(0.005, 0.02)).outcome == .held)
        let atMost = CriterionDefinition("x_max", statistic: "x", .atMost, 1, "x")
        #expect(atMost.judge(observed: 1, interval: interval(0.5, 1)).outcome == .held)
    }

    @Test("an override replaces the threshold and keeps the original and the reason")
    func override() {
        let criterion = atLeast.judge(observed: 0.65, interval: interval(0.62, 0.68),
                                      override: ThresholdOverride(value: 0.6, reason: "deeper model", original: 0.7))
        #expect(criterion.outcome == .held)
        #expect(criterion.threshold == 0.6)
        #expect(criterion.override?.original == 0.7)
    }

    @Test("supported needs every criterion held; one failure refutes; otherwise inconclusive")
    func verdicts() {
        let held = atLeast.judge(observed: 0.84, interval: interval(0.8, 0.88))
        let failed = atLeast.judge(observed: 0.5, interval: interval(0.4, 0.6))
        let undecided = atLeast.judge(observed: 0.72, interval: interval(0.65, 0.78))
        #expect(VerdictRule.verdict([held, held]) == .supported)
        #expect(VerdictRule.verdict([held, undecided]) == .inconclusive)
        #expect(VerdictRule.verdict([undecided, failed]) == .refuted)
        #expect(VerdictRule.verdict([]) == .inconclusive)
        #expect(VerdictRule.verdict([held], policy: .informational) == .informational)
        #expect(VerdictRule.verdict([held], policy: .informationalUnlessSupported) == .supported)
        #expect(VerdictRule.verdict([undecided], policy: .informationalUnlessSupported) == .informational)
        // A withheld verdict (e.g. an unconverged training) is inconclusive whatever the criteria say.
        #expect(VerdictRule.verdict([held], policy: .withheld) == .inconclusive)
        #expect(VerdictRule.verdict([failed], policy: .withheld) == .inconclusive)
    }

    @Test("a criterion round-trips through the run file's JSON with its interval as [low, high]")
    func coding() throws {
        let criterion = atLeast.judge(observed: 0.84, interval: interval(0.8, 0.88))
        let data = try JSONEncoder().encode(criterion)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["interval"] as? [Double]) == [0.8, 0.88])
        #expect(object["outcome"] as? String == "held")
        #expect(object["comparison"] as? String == ">=")
        #expect(try JSONDecoder().decode(Criterion.self, from: data) == criterion)
    }
}
