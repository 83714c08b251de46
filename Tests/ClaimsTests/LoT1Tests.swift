import Claims
import Testing
import TestSupport

/// LoT-1's and LoT-3's verdicts and figure data on SmolLM2 (720 Walden chunks of 16 tokens,
/// trained and random-init) are pinned by the smoke baseline (HarnessTests'
/// SmokeBaselineScienceTests), which `make test`'s smoke run must reproduce.
@Suite("LoT-1 low-rank trajectories", .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct LoT1Tests {
    let claim = LoT1LowRankTrajectories()

    @Test("fewer trajectories than the model width is insufficient data, before any forward pass")
    func tooFewTrajectories() {
        #expect(throws: ClaimError.self) {
            try claim.check(SmolLM2Claims.context(corpus: "walden", count: 100, tokens: 16))
        }
    }
}
