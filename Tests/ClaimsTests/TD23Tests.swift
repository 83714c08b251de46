import Claims
import Testing
import TestSupport

@Suite("TD-2 densification and TD-3 acceleration", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct TD23Tests {
    func context(_ subject: Subject) -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "wikitext", count: 200, tokens: 32)
    }

    @Test("TD-2: trained SmolLM2 densifies; the random-init control stays flat and is refuted")
    func densification() throws {
        let trained = try TD2Densification().check(context(.model))
        let random = try TD2Densification().check(context(.control("random-init")))
        print("TD-2 trained \(trained.criteria.map(\.observed)), random-init \(random.criteria.map(\.observed))")
        #expect(trained.verdict == .supported, "\(trained.criteria)")
        #expect(random.verdict == .refuted, "\(random.criteria)")
        // The pilot's random-init density is flat at 0.64 (Gaussian-like) for variant (b).
        let flat = try #require(SmolLM2Claims.metric(random, "rho_excl_massive", layer: 20))
        #expect(abs(flat - 0.637) < 0.02)
    }

    @Test("TD-3: trained SmolLM2 accelerates (pilot A ≈ 4.6); random-init does not (A ≈ 1)")
    func acceleration() throws {
        let trained = try TD3Acceleration().check(context(.model))
        let random = try TD3Acceleration().check(context(.control("random-init")))
        print("TD-3 trained \(trained.criteria.map(\.observed)), random-init \(random.criteria.map(\.observed))")
        #expect(trained.verdict == .supported, "\(trained.criteria)")
        #expect(random.verdict == .refuted, "\(random.criteria)")
        let ratio = try #require(SmolLM2Claims.metric(random, "acceleration_ratio"))
        #expect(ratio < 1.3)
    }
}
