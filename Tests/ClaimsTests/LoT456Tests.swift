import Analysis
@testable import Claims
import Testing
import TestSupport

/// Small LoT inputs for LoT-4/5/angles: 760 chunks leave 68 evaluation trajectories after
/// LoT-4's ⌈1.2·576⌉ = 692 basis trajectories; 8 tokens keep the capture to ~6k tokens.
enum LoT456Smoke {
    static func chunks(_ subject: Subject = .model, parameters: [String: ParameterValue] = [:]) -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "walden", count: 760, tokens: 8, parameters: parameters)
    }

    /// LoT-6 needs N ≥ 1.25·D windows (its jackknife refits the ablated bases) for the ablated model's bases; 4 tokens keep three captures cheap.
    static func windows(_ subject: Subject = .model) -> ClaimContext {
        SmolLM2Claims.context(subject, corpus: "walden", count: 720, tokens: 4,
                              parameters: ["controlLayers": .list([.int(10), .int(30)])])
    }

    static func show(_ label: String, _ outcome: Checked, _ names: [String]) {
        print("\(label): \(outcome.verdict) \(names.map { "\($0)=\(SmolLM2Claims.metric(outcome, $0).map { String($0) } ?? "-")" })")
        for criterion in outcome.criteria { print("  \(criterion.outcome == .held ? "pass" : "FAIL") \(criterion.name): \(criterion.observed)") }
    }
}

@Suite("LoT-4/5/6 and singular-vector angles on SmolLM2", .serialized,
       .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct LoT456ModelTests {
    @Test("LoT-5: pre-norm last step on trend, HF convention far off it, early kurtosis high")
    func edgeLayers() throws {
        let outcome = try LoT5EdgeLayerAnomalies().check(LoT456Smoke.chunks())
        LoT456Smoke.show("LoT-5", outcome, ["delta_last_prenorm", "delta_last_hf", "A3_early_mean", "A3_middle_third", "lambda_interior"])
        let prenorm = try #require(SmolLM2Claims.metric(outcome, "delta_last_prenorm"))
        let hf = try #require(SmolLM2Claims.metric(outcome, "delta_last_hf"))
        #expect(abs(prenorm) <= 2)
        #expect(hf <= -3, "the final norm shrinks the last point, so its residual variance falls")
        #expect(outcome.criteria.count == 3)
    }

    @Test("singular-vector angles: small between adjacent layers, large far apart; informational")
    func angles() throws {
        let outcome = try LoTSingularVectorAngles().check(LoT456Smoke.chunks())
        LoT456Smoke.show("LoT-angles", outcome, ["adjacent_median", "distant_median", "angle_u2_first_last"])
        #expect(outcome.verdict == .informational)
        #expect(outcome.criteria.count == 2)
        let adjacent = try #require(SmolLM2Claims.metric(outcome, "adjacent_median"))
        let distant = try #require(SmolLM2Claims.metric(outcome, "distant_median"))
        #expect(adjacent < 30 && distant > 45 && adjacent < distant)
        let lags = (1...29).compactMap { SmolLM2Claims.metric(outcome, "angle_u1_lag", layer: $0) }
        #expect(lags.count == 29 && lags[0] < lags[28])
    }

    @Test("LoT-4: held-out extrapolation near chance; x̃ = x(t) is detected")
    func extrapolationClassifier() throws {
        let claim = LoT4ExtrapolationClassifier()
        let outcome = try claim.check(LoT456Smoke.chunks(parameters: ["nullPermutations": .int(0)]))
        LoT456Smoke.show("LoT-4", outcome, ["evaluation_trajectories"])
        #expect(SmolLM2Claims.metric(outcome, "evaluation_trajectories") == 68)
        #expect(outcome.criteria.count == 6, "band floor, band ceiling and τ step at both judged layers")
        let heldOut = outcome.metrics.filter { $0.name.hasPrefix("heldout_accuracy") }.map(\.value)
        #expect(heldOut.count == 4 && heldOut.allSatisfy { $0 > 0.3 && $0 < 0.7 }, "\(heldOut)")
        let identity = try claim.check(LoT456Smoke.chunks(.control(LoT4ExtrapolationClassifier.identityControl)))
        LoT456Smoke.show("LoT-4 identity", identity, [])
        #expect(identity.verdict == .refuted)
    }

    @Test("LoT-6: gibberish separates at every layer; the first-vs-second-half control does not")
    func nullInputs() throws {
        let claim = LoT6NullInputs()
        let outcome = try claim.check(LoT456Smoke.windows())
        LoT456Smoke.show("LoT-6", outcome, ["gibberish_accuracy_min", "velocity_ratio", "last_quarter_lambda_ablated",
                                            "last_quarter_r2_ablated", "straightness_projected_ablated"])
        let separation = try #require(SmolLM2Claims.metric(outcome, "gibberish_accuracy_min"))
        #expect(separation >= 0.9)
        let control = try claim.check(LoT456Smoke.windows(.control(LoT6NullInputs.arbitraryLabelsControl)))
        LoT456Smoke.show("LoT-6 arbitrary-labels", control, [])
        #expect(control.verdict == .refuted)
        let chance = control.metrics.filter { $0.name == "arbitrary_accuracy" }.map(\.value)
        #expect(chance.count == 2 && chance.allSatisfy { $0 < 0.7 }, "\(chance)")
    }
}

@Suite("LoT extrapolation and trajectory helpers")
struct LoTTrajectoryHelperTests {
    /// Random trajectories with a different scale per layer and coordinate.
    static func trajectories(samples: Int, width: Int, layers: Int, seed: UInt64) -> [Matrix] {
        var rng = PCG64(seed: seed)
        return (0..<layers).map { t in
            var x = Matrix(rows: samples, columns: width)
            x.withUnsafeMutableStorage { s in
                for k in s.indices { s[k] = rng.nextGaussian() * Double(1 + (k % width) + t) }
            }
            return x
        }
    }

    @Test("in-sample extrapolation reproduces the target's uncentered second moments (why LoT-4 splits)")
    func inSampleSecondMoments() throws {
        let states = Self.trajectories(samples: 40, width: 6, layers: 3, seed: 3)
        let bases = try TrajectoryBases(states: states, claim: "test")
        let predicted = bases.extrapolate(states[0], from: 1, to: 3)
        let predictedGram = Matrix.product(predicted, predicted, transposeLeft: true)
        let actualGram = Matrix.product(states[2], states[2], transposeLeft: true)
        for k in actualGram.storage.indices {
            #expect(abs(predictedGram.storage[k] - actualGram.storage[k]) <= 1e-8 * abs(actualGram.storage[k]) + 1e-8)
        }
        // Held-out rows do not share this identity.
        let other = Self.trajectories(samples: 40, width: 6, layers: 3, seed: 4)
        let heldOut = bases.extrapolate(other[0], from: 1, to: 3)
        #expect(heldOut.rows == 40 && heldOut.columns == 6)
    }

    @Test("replacing the last point re-fits only that layer")
    func replacingLastPoint() throws {
        let states = Self.trajectories(samples: 30, width: 5, layers: 4, seed: 5)
        let bases = try TrajectoryBases(states: states, claim: "test")
        let scaled = Matrix(rows: 30, columns: 5, storage: states[3].storage.map { $0 * 0.5 })
        let replaced = try bases.replacingLastPoint(with: scaled, claim: "test")
        #expect(replaced.aligned[0] == bases.aligned[0] && replaced.aligned[2] == bases.aligned[2])
        for i in 0..<5 {
            #expect(abs(replaced.alignedSingularValues[3][i] - 0.5 * bases.alignedSingularValues[3][i]) < 1e-9)
        }
        #expect(throws: ClaimError.self) { try bases.replacingLastPoint(with: Matrix(rows: 3, columns: 5), claim: "test") }
    }

    @Test("velocity and straightness of a straight and of a zig-zag path")
    func velocityAndStraightness() {
        // One sample moving +1 along x each layer: velocity 1, straightness 1.
        let straight = (0..<5).map { Matrix([[Double($0), 0]]) }
        #expect(LoT6NullInputs.meanVelocity(straight, after: 0) == 1)
        #expect(LoT6NullInputs.medianStraightness(straight, after: 0, projection: nil) == 1)
        // Zig-zag in y while advancing in x: straight once projected on x.
        let zigzag = (0..<5).map { Matrix([[Double($0), $0.isMultiple(of: 2) ? 0 : 3]]) }
        #expect(LoT6NullInputs.medianStraightness(zigzag, after: 0, projection: nil) < 0.5)
        #expect(LoT6NullInputs.medianStraightness(zigzag, after: 0, projection: Matrix([[1, 0]])) == 1)
    }
}
