import Claims
import Testing
import TestSupport

@Suite("TD-1 unit correlation", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct TD1Tests {
    let claim = TD1UnitCorrelation()

    @Test("supported on SmolLM2 with R near the pilot's 0.84; nulls near zero")
    func trained() throws {
        let outcome = try claim.check(SmolLM2Claims.context(corpus: "wikitext", count: 200, tokens: 32))
        let R = try #require(SmolLM2Claims.metric(outcome, "R"))
        print("TD-1 trained: R \(R), criteria \(outcome.criteria.map { "\($0.name)=\($0.observed)" })")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        #expect(R > 0.75 && R < 0.95)
    }

    @Test("controls that break the pairing come out refuted", arguments: ["shuffle", "cross-unit", "rotated-basis"])
    func nullControls(name: String) throws {
        let outcome = try claim.check(SmolLM2Claims.context(.control(name), corpus: "wikitext", count: 200, tokens: 32))
        #expect(outcome.verdict == .refuted, "\(name): \(outcome.criteria)")
    }

    @Test("an unknown control is an error, not a silent pass")
    func unknownControl() {
        #expect(throws: ClaimError.unknownControl(claim: "TD-1", control: "nonsense")) {
            try claim.check(SmolLM2Claims.context(.control("nonsense"), corpus: "wikitext", count: 10, tokens: 8))
        }
    }
}
