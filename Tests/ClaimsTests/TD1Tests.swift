import Claims
import Testing
import TestSupport

/// TD-1's verdicts on SmolLM2 (supported; shuffle, cross-unit and rotated-basis refuted) are
/// pinned by the smoke baseline (HarnessTests' SmokeBaselineScienceTests), which `make test`'s
/// smoke run must reproduce; running the same captures here again would double their cost.
@Suite("TD-1 unit correlation", .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct TD1Tests {
    let claim = TD1UnitCorrelation()

    @Test("an unknown control is an error, not a silent pass")
    func unknownControl() {
        #expect(throws: ClaimError.unknownControl(claim: "TD-1", control: "nonsense")) {
            try claim.check(SmolLM2Claims.context(.control("nonsense"), corpus: "wikitext", count: 10, tokens: 8))
        }
    }
}
