import Claims
import Foundation
import Testing
import TestSupport

/// Smoke size: 120 Walden chunks of 32 tokens, variant A on the first 40. N < D = 576, so the
/// bases have rank 120 and every K ≥ 120 keeps the whole sample span (in-sample
/// reconstructions); the small K still measure truncation, and the held-out variant shows
/// what the in-sample fit hides.
@Suite("LoT-2 truncation to K singular directions", .serialized,
       .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct LoT2Tests {
    let claim = LoT2Truncation()

    func run(_ subject: Subject) throws -> (Checked, Double) {
        let start = Date()
        let outcome = try claim.check(SmolLM2Claims.context(subject, corpus: "walden", count: 120, tokens: 32,
                                                              parameters: ["variantASamples": .int(40)]))
        return (outcome, Date().timeIntervalSince(start))
    }

    func curve(_ outcome: Checked, _ name: String) -> [String] {
        outcome.metrics.filter { $0.name == name }.map { "\($0.layer!): \(String(format: "%.3f", $0.value))" }
    }

    @Test("supported on SmolLM2: a multi-nat baseline, KL falls with K, variant A near zero at the gate")
    func trained() throws {
        let (outcome, seconds) = try run(.model)
        let baseline = try #require(SmolLM2Claims.metric(outcome, "baseline_median_kl"))
        print("LoT-2 trained (\(String(format: "%.1f", seconds)) s): baseline median \(baseline)")
        print("  B ratio \(curve(outcome, "B_ratio"))\n  A ratio \(curve(outcome, "A_ratio"))\n  held-out B ratio \(curve(outcome, "heldout_B_ratio"))")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        #expect(baseline > 4 && baseline < 9, "the pilot's baseline median is 6.11 nats")
        let ratiosB = outcome.metrics.filter { $0.name == "B_ratio" }.map(\.value)
        #expect(zip(ratiosB.dropFirst(), ratiosB).allSatisfy { $0 <= $1 + 1e-9 }, "variant B must not get worse with K")
        // Bases fitted on other trajectories reconstruct worse than the in-sample fit.
        let inSample = try #require(SmolLM2Claims.metric(outcome, "B_ratio", layer: 64))
        let heldOut = try #require(SmolLM2Claims.metric(outcome, "heldout_B_ratio", layer: 64))
        #expect(heldOut > inSample)
    }

    @Test("the random-init control is refuted by the baseline sanity check")
    func randomInit() throws {
        let (outcome, seconds) = try run(.control(RandomInitialization.controlName))
        let baseline = try #require(SmolLM2Claims.metric(outcome, "baseline_median_kl"))
        print("LoT-2 random-init (\(String(format: "%.1f", seconds)) s): baseline median \(baseline), B ratio \(curve(outcome, "B_ratio"))")
        #expect(outcome.verdict == .refuted, "\(outcome.criteria)")
        #expect(baseline < 2, "the pilot's random-init baseline is 0.22 nats")
    }
}
