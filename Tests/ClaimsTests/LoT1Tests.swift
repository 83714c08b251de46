import Claims
import Testing
import TestSupport

/// The LoT smoke sampling shared by the LoT-1 and LoT-3 tests (one capture and one set of
/// SVDs per model for both): N must be at least D = 576.
enum LoTSmoke {
    static let count = 720
    static let tokens = 16

    static func context(_ subject: Subject = .model) -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "walden", count: count, tokens: tokens)
    }
}

/// The parent of the LoT-1 and LoT-3 model suites: serialized so both claims reuse one capture
/// and one set of SVDs per model instead of computing them concurrently.
@Suite("LoT claims on SmolLM2", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct LoTModelTests {}

extension LoTModelTests {
@Suite("LoT-1 low-rank trajectories")
struct LoT1Tests {
    let claim = LoT1LowRankTrajectories()

    @Test("supported on SmolLM2: late layers have a participation ratio of a few dimensions")
    func trained() throws {
        let outcome = try claim.check(LoTSmoke.context())
        let median = try #require(SmolLM2Claims.metric(outcome, "median_pr_late"))
        let k90 = try #require(SmolLM2Claims.metric(outcome, "max_k90_late"))
        print("LoT-1 trained: PR \((1...30).map { SmolLM2Claims.metric(outcome, "participation_ratio", layer: $0)! })")
        print("LoT-1 trained: k90 \((1...30).map { SmolLM2Claims.metric(outcome, "k90", layer: $0)! })")
        print("LoT-1 trained: angle_u1 \((1...29).map { SmolLM2Claims.metric(outcome, "angle_u1", layer: $0)! })")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        #expect(median < 6)
        #expect(k90 <= 144)
        #expect(SmolLM2Claims.metric(outcome, "angle_u1", layer: 29) != nil)
        // The figure data: five trajectories' projections at every layer, and spectra that start at σ₁/σ₁ = 1 and fall.
        for sample in 0..<LoT1LowRankTrajectories.drawnTrajectories {
            #expect((1...30).allSatisfy { SmolLM2Claims.metric(outcome, "path\(sample)_u1", layer: $0) != nil
                && SmolLM2Claims.metric(outcome, "path\(sample)_u2", layer: $0) != nil })
        }
        for t in [1, 10, 20, 30] {
            let spectrum = LoT1LowRankTrajectories.spectrumRanks.compactMap { SmolLM2Claims.metric(outcome, String(format: "spectrum_t%02d", t), layer: $0) }
            #expect(spectrum.count == LoT1LowRankTrajectories.spectrumRanks.filter { $0 <= 576 }.count)
            #expect(spectrum.first == 1 && zip(spectrum, spectrum.dropFirst()).allSatisfy { $0 >= $1 })
        }
    }

    @Test("the random-init control spreads over many dimensions and comes out refuted on both criteria")
    func randomInit() throws {
        let outcome = try claim.check(LoTSmoke.context(.control(RandomInitialization.controlName)))
        let median = try #require(SmolLM2Claims.metric(outcome, "median_pr_late"))
        let k90 = try #require(SmolLM2Claims.metric(outcome, "min_k90_late"))
        print("LoT-1 random-init: PR \((1...30).map { SmolLM2Claims.metric(outcome, "participation_ratio", layer: $0)! })")
        print("LoT-1 random-init: k90 \((1...30).map { SmolLM2Claims.metric(outcome, "k90", layer: $0)! })")
        #expect(outcome.verdict == .refuted)
        #expect(outcome.criteria.allSatisfy { $0.outcome != .held }, "\(outcome.criteria)")
        #expect(median >= 25)
        // The pilot's k90 ≥ 0.3·D holds at N = 1000 × 50 tokens; the smoke size sits lower (about 0.26·D).
        #expect(k90 > 0.25 * 576)
    }

    @Test("fewer trajectories than the model width is insufficient data, before any forward pass")
    func tooFewTrajectories() {
        #expect(throws: ClaimError.self) {
            try claim.check(SmolLM2Claims.context(corpus: "walden", count: 100, tokens: 16))
        }
    }
}
}
