import Foundation
import Testing
@testable import Harness
@testable import Recording

/// `rbench bench --suite`'s forward floor: the run's forward tokens at the measured sgemm rate.
@Suite struct ForwardFloorTests {
    func result(_ subject: String, tokens: Int, seconds: Double) -> ResultRecord {
        ResultRecord(claimID: "T-1", subject: subject, verdict: .supported, seed: 1, durationNS: 1, metrics: [],
                     profile: PhaseProfile(seconds: ["forward": seconds, "resampling": 9], work: ["forward": tokens, "resampling": 100]))
    }

    @Test func sumsEveryCheckAndSubjectAndDividesBySGEMM() {
        let run = RunRecord(suite: "tiny", suiteSHA256: "s", modelSHA256: "m", corporaSHA256: [:], masterSeed: 1, argv: [],
                            revision: RevisionInfo(inRepository: false), environment: testEnvironment(),
                            results: [result("model", tokens: 6_000, seconds: 8),
                                      result("random-init", tokens: 4_000, seconds: 6),
                                      // Results recorded before profiles existed add nothing.
                                      ResultRecord(claimID: "T-2", subject: "model", verdict: .supported, seed: 1, durationNS: 1, metrics: [])])
        // 10,000 tokens × 0.2 GFLOP = 2,000 GFLOP; at 2,000/7 GFLOP/s that is 7 s, half the 14 s measured.
        let floor = ForwardFloor(run: run, flopsPerToken: 0.2e9, sgemmGigaflops: 2_000 / 7)
        #expect(floor.tokens == 10_000)
        #expect(floor.measuredSeconds == 14)
        #expect(abs(floor.seconds - 7) < 1e-12)
        #expect(abs(floor.efficiency! - 0.5) < 1e-12)
    }

    @Test func noRateOrNoForwardPassesGivesNoBoundAndNoEfficiency() {
        #expect(ForwardFloor(tokens: 100, flopsPerToken: 1e9, sgemmGigaflops: 0, measuredSeconds: 1).seconds == 0)
        #expect(ForwardFloor(tokens: 100, flopsPerToken: 1e9, sgemmGigaflops: 0, measuredSeconds: 1).efficiency == nil)
        #expect(ForwardFloor(tokens: 0, flopsPerToken: 1e9, sgemmGigaflops: 100, measuredSeconds: 0).efficiency == nil)
    }
}
