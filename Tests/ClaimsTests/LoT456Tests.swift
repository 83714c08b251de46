import Analysis
import Evidence
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

    @Test("LoT-4: every chunk evaluated once with the largest basis sets, judged against the model-true control")
    func extrapolationClassifier() throws {
        let claim = LoT4ExtrapolationClassifier()
        // 12 splits of the 760 shared chunks: 63–64 evaluated per split, 696–697 basis trajectories ≥ ⌈1.2·576⌉.
        let parameters: [String: ParameterValue] = ["nullPermutations": .int(0), "splits": .int(12)]
        let outcome = try claim.check(LoT456Smoke.chunks(parameters: parameters))
        LoT456Smoke.show("LoT-4", outcome, ["basis_trajectories", "accuracy_tau1_first", "modeltrue_accuracy_tau1_first",
                                            "excess_tau1_first", "accuracy_tau1_second", "modeltrue_accuracy_tau1_second",
                                            "svm_epochs_max", "svm_relative_gap_max"])
        #expect(SmolLM2Claims.metric(outcome, "evaluation_trajectories") == 760)
        #expect(SmolLM2Claims.metric(outcome, "basis_trajectories") == 696 && SmolLM2Claims.metric(outcome, "basis_trajectories_max") == 697)
        #expect(outcome.criteria.count == 6, "excess floor, excess ceiling and τ step at both judged layers")
        #expect(outcome.criteria.allSatisfy { $0.name.hasPrefix("excess_") || $0.name.hasPrefix("tau10_") })
        #expect(SmolLM2Claims.metric(outcome, "svm_converged") == 1)
        #expect(try #require(SmolLM2Claims.metric(outcome, "svm_relative_gap_max")) < 1e-2)
        for slot in ["first", "second"] {
            let real = try #require(SmolLM2Claims.metric(outcome, "accuracy_tau1_\(slot)"))
            let control = try #require(SmolLM2Claims.metric(outcome, "modeltrue_accuracy_tau1_\(slot)"))
            #expect(real > 0.3 && real < 0.8 && control > 0.3 && control < 0.8, "\(slot): \(real) vs \(control)")
            #expect(abs(try #require(SmolLM2Claims.metric(outcome, "excess_tau1_\(slot)")) - (real - control)) < 1e-12)
            // The paper's band is recorded, never gated.
            #expect(SmolLM2Claims.metric(outcome, "paper_band_tau1_\(slot)") != nil)
        }
        let identity = try claim.check(LoT456Smoke.chunks(.control(LoT4ExtrapolationClassifier.identityControl), parameters: parameters))
        LoT456Smoke.show("LoT-4 identity", identity, ["excess_tau1_first"])
        #expect(identity.verdict == .refuted)
        #expect(try #require(SmolLM2Claims.metric(identity, "excess_tau1_first")) > 0.06)
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

    @Test("bases from G(all) − G(evaluated) give the maps of bases fitted on the basis set's own states")
    func gramDifferenceBases() throws {
        let states = Self.trajectories(samples: 60, width: 5, layers: 4, seed: 6)
        let evaluated = Array(stride(from: 0, to: 60, by: 4)), basis = (0..<60).filter { !$0.isMultiple(of: 4) }
        func gram(_ x: Matrix) -> Matrix { Matrix.product(x, x, transposeLeft: true) }
        let grams = states.map { x -> Matrix in
            let all = gram(x), held = gram(x.rows(at: evaluated))
            return Matrix(rows: all.rows, columns: all.columns, storage: zip(all.storage, held.storage).map { $0 - $1 })
        }
        let fromGrams = try TrajectoryBases(grams: grams, sampleCount: basis.count, claim: "test")
        let direct = try TrajectoryBases(states: states.map { $0.rows(at: basis) }, claim: "test", decomposition: .gram)
        let source = states[0].rows(at: evaluated)
        for target in 2...4 {
            let a = fromGrams.extrapolate(source, from: 1, to: target), b = direct.extrapolate(source, from: 1, to: target)
            for k in a.storage.indices { #expect(abs(a.storage[k] - b.storage[k]) <= 1e-8 * (1 + abs(b.storage[k]))) }
        }
        #expect(fromGrams.layerCount == 4 && fromGrams.width == 5)
        #expect(throws: ClaimError.self) { try TrajectoryBases(grams: grams, sampleCount: 4, claim: "test") }
        // Replacing one layer's basis changes the maps into it and leaves the others alone.
        let scaled = Matrix(rows: 5, columns: 5, storage: grams[2].storage.map { $0 * 4 })
        let replaced = try fromGrams.replacingLayer(3, gram: scaled)
        #expect(replaced.aligned[1] == fromGrams.aligned[1] && replaced.aligned[3] == fromGrams.aligned[3])
        for i in 0..<5 { #expect(abs(replaced.alignedSingularValues[2][i] - 2 * fromGrams.alignedSingularValues[2][i]) < 1e-9) }
    }

    @Test("LoT-4 splits: disjoint evaluation sets that cover every trajectory once, seeded")
    func evaluationSets() {
        let sets = LoT4ExtrapolationClassifier.evaluationSets(count: 103, splits: 10, seed: 7)
        #expect(sets.count == 10)
        #expect(sets.flatMap { $0 }.sorted() == Array(0..<103))
        #expect(sets.allSatisfy { $0 == $0.sorted() && ($0.count == 10 || $0.count == 11) })
        #expect(LoT4ExtrapolationClassifier.evaluationSets(count: 103, splits: 10, seed: 7) == sets)
        #expect(LoT4ExtrapolationClassifier.evaluationSets(count: 103, splits: 10, seed: 8) != sets)
    }

    @Test("LoT-4 paper band: inside, outside or straddled, by the whole interval")
    func paperBand() {
        func interval(_ low: Double, _ high: Double) -> Interval {
            Interval(low: low, high: high, level: 0.95, method: .folds, replicates: 10, sampleSize: 100, unit: "folds")
        }
        #expect(LoT4ExtrapolationClassifier.bandPosition(0.5, interval(0.46, 0.54)) == 1)
        #expect(LoT4ExtrapolationClassifier.bandPosition(0.62, interval(0.58, 0.66)) == 0)
        #expect(LoT4ExtrapolationClassifier.bandPosition(0.57, interval(0.53, 0.61)) == 0.5)
        #expect(LoT4ExtrapolationClassifier.bandPosition(0.40, interval(0.36, 0.43)) == 0)
    }

    @Test("LoT-4 grid on synthetic trajectories: every trajectory scored once, model-true control alongside, bit-reproducible")
    func syntheticGrid() throws {
        // 12 layers of 6-D trajectories, x(t+1) = R·x(t) + noise: the rotate-and-stretch model is nearly true.
        let samples = 150, width = 6, blocks = 12
        var rng = PCG64(seed: 11)
        var layers = [Matrix(rows: samples, columns: width, storage: (0..<(samples * width)).map { k in
            rng.nextGaussian() * Double(1 + k % width) + 2
        })]
        let rotation = (0..<(width * width)).map { _ in rng.nextGaussian() / Double(width).squareRoot() }
        for _ in 1...blocks {
            let previous = layers.last!
            var next = Matrix(rows: samples, columns: width)
            for r in 0..<samples {
                for i in 0..<width {
                    var v = 0.0
                    for j in 0..<width { v += rotation[i * width + j] * previous[r, j] }
                    next[r, i] = previous[r, i] + 0.3 * v + 0.1 * rng.nextGaussian()
                }
            }
            layers.append(next)
        }
        let states = LastPositionStates(residual: layers, mid: [], finalNorm: layers[blocks], sequences: (0..<samples).map { [$0] })
        let sets = LoT4ExtrapolationClassifier.evaluationSets(count: samples, splits: 3, seed: 1)
        let cells = [LoT4ExtrapolationClassifier.Cell(t: 1, tau: 1), LoT4ExtrapolationClassifier.Cell(t: 1, tau: 10)]
        let grid = try LoT4ExtrapolationClassifier.grid(states: states, sets: sets, cells: cells, permutations: 2, seed: 3, claim: "test")
        #expect(grid.basisSizes == sets.map { samples - $0.count })
        for c in cells.indices {
            #expect(grid.heldOut[c].classified == 2 * samples && grid.modelTrue[c].classified == 2 * samples)
            #expect(grid.heldOut[c].accuracy >= 0 && grid.heldOut[c].accuracy <= 1)
            #expect(grid.modelTrue[c].accuracy >= 0 && grid.modelTrue[c].accuracy <= 1)
            #expect(grid.null[c].count == 2)
            // The synthetic target carries the model's energy plus the noise's.
            #expect(grid.energyRatio[c] > 1 && grid.noiseVariance[c] > 0)
        }
        #expect(grid.solver.converged && grid.solver.fits == 3 * 2 * 2)
        let again = try LoT4ExtrapolationClassifier.grid(states: states, sets: sets, cells: cells, permutations: 2, seed: 3, claim: "test")
        #expect(again.heldOut == grid.heldOut && again.modelTrue == grid.modelTrue && again.null == grid.null)
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
