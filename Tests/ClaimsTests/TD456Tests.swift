import Claims
import Testing
import TestSupport

@Suite("TD-4 mutual information, TD-5 rotations and TD-6 turning angle", .serialized,
       .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct TD456Tests {
    func context(_ subject: Subject, parameters: [String: ParameterValue] = [:]) -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "wikitext", count: 120, tokens: 32, parameters: parameters)
    }

    @Test("TD-4: MI drops at h₀→h₁, then climbs (informational); the shuffle null sits at the leave-one-out bias")
    func mutualInformation() throws {
        // 16 units keep the test quick; the shape does not depend on the unit count.
        let parameters: [String: ParameterValue] = ["units": .int(16)]
        let trained = try TD4MutualInformation().check(context(.model, parameters: parameters))
        let shuffled = try TD4MutualInformation().check(context(.control("shuffle"), parameters: parameters))
        print("TD-4 trained \(trained.criteria.map(\.observed)), shuffle \(shuffled.criteria.map(\.observed))")
        #expect(trained.verdict == .informational && shuffled.verdict == .informational)
        let bothHold = trained.criteria.allSatisfy { $0.outcome == .held }
        #expect(bothHold, "\(trained.criteria)")
        let first = try #require(SmolLM2Claims.metric(trained, "mi", layer: 1))
        let median = try #require(SmolLM2Claims.metric(trained, "mi_median_later"))
        #expect(first < 0.15)  // pilot 0.03
        #expect(median > 0.35 && median < 1.0)  // pilot 0.54 → 0.77
        let null = try #require(SmolLM2Claims.metric(trained, "mi_null_shuffle_mean"))
        #expect(abs(null) < 0.08)  // pilot −0.02
        let shuffledMedian = try #require(SmolLM2Claims.metric(shuffled, "mi_median_later"))
        #expect(abs(shuffledMedian) < 0.08)
    }

    @Test("TD-5: SmolLM2 winds like a random walk, so the check stays informational")
    func rotations() throws {
        let outcome = try TD5Rotations().check(context(.model))
        print("TD-5 \(outcome.criteria.map(\.observed))")
        #expect(outcome.verdict == .informational)
        let revolutions = try #require(SmolLM2Claims.metric(outcome, "revolutions_mean_trajectory_raw"))
        let walk = try #require(SmolLM2Claims.metric(outcome, "null_random_walk_revolutions"))
        let white = try #require(SmolLM2Claims.metric(outcome, "null_white_noise_revolutions"))
        let permuted = try #require(SmolLM2Claims.metric(outcome, "null_permuted_revolutions"))
        #expect(revolutions > 1.3 && revolutions < 3)  // pilot 1.84
        #expect(abs(walk - 2.03) < 0.3)
        #expect(white > 6.5 && permuted > 6)  // pilot 8.05 and 7.4
        // The outward spiral is the norm growth: it is near universal raw, about a coin flip normalized.
        let rawShare = try #require(SmolLM2Claims.metric(outcome, "spiral_slope_raw_positive_share"))
        let normalizedShare = try #require(SmolLM2Claims.metric(outcome, "spiral_slope_normalized_positive_share"))
        #expect(rawShare > 0.9 && normalizedShare < 0.75)
    }

    @Test("TD-6: trained trajectories straighten late (pilot S ≈ 16°); random-init turns at 90° and is refuted")
    func turningAngle() throws {
        let trained = try TD6TurningAngle().check(context(.model))
        let random = try TD6TurningAngle().check(context(.control("random-init")))
        print("TD-6 trained \(trained.criteria.map(\.observed)), random-init \(random.criteria.map(\.observed))")
        #expect(trained.verdict == .supported, "\(trained.criteria)")
        #expect(random.verdict == .refuted, "\(random.criteria)")
        let deviation = try #require(SmolLM2Claims.metric(random, "max_deviation_from_90"))
        #expect(deviation < 3)
        let straightening = try #require(SmolLM2Claims.metric(trained, "straightening"))
        #expect(straightening > 8 && straightening < 25)
    }

    @Test("Extras: unit correlation decays slowly with lag (shuffle ≈ 0); the norm grows fastest late")
    func extras() throws {
        let lag = try TDUnitCorrelationLag().check(context(.model))
        let shuffled = try TDUnitCorrelationLag().check(context(.control("shuffle")))
        #expect(lag.verdict == .informational)
        let one = try #require(SmolLM2Claims.metric(lag, "lag_med_r", layer: 1))
        let ten = try #require(SmolLM2Claims.metric(lag, "lag_med_r", layer: 10))
        print("TD-lag r(1) \(one), r(10) \(ten)")
        #expect(one > 0.7 && ten < one && ten > 0.2)
        let shuffledOne = try #require(SmolLM2Claims.metric(shuffled, "lag_med_r", layer: 1))
        #expect(abs(shuffledOne) < 0.1)

        let norm = try TDNormGrowth().check(context(.model))
        #expect(norm.verdict == .informational)
        let late = try #require(SmolLM2Claims.metric(norm, "growth_rate_late"))
        let middle = try #require(SmolLM2Claims.metric(norm, "growth_rate_mid"))
        print("TD-norm growth mid \(middle), late \(late)")
        #expect(late > middle && late > 0.05)
    }
}
