import Analysis
import Foundation
@testable import Claims
import Testing
import TestSupport

/// The pieces of TD-CAE on synthetic states whose answer is known (no model needed).
@Suite("TD-CAE pieces on synthetic states")
struct CAESyntheticTests {
    /// `layers` matrices of `samples × width`: the first `noisy` layers are isotropic Gaussian
    /// clouds (no 2-D structure), the rest lie on one curved 2-D sheet plus a little noise.
    func states(layers: Int, noisy: Int, samples: Int, width: Int) -> [Matrix] {
        var rng = PCG64(seed: 21)
        let mixing = (0..<(5 * width)).map { _ in rng.nextGaussian() }
        return (0..<layers).map { l in
            var storage: [Double] = []
            for _ in 0..<samples {
                if l < noisy {
                    storage += (0..<width).map { _ in rng.nextGaussian(std: 2) }
                } else {
                    let u = 2 * rng.nextDouble() - 1, v = 2 * rng.nextDouble() - 1
                    let features = [1, u, v, u * v, u * u]
                    storage += (0..<width).map { c in
                        (0..<5).reduce(0) { $0 + features[$1] * mixing[$1 * width + c] } + rng.nextGaussian(std: 0.02)
                    }
                }
            }
            return Matrix(rows: samples, columns: width, storage: storage)
        }
    }

    @Test("pooling stacks layers layer-major and scales each state to unit RMS; a zero state is an error")
    func pooling() throws {
        let residual = [Matrix([[3, 4], [1, 1]]), Matrix([[0, 2], [-5, 5]])]
        let pooled = try TDCompressingAutoencoder.pooledUnitRMS(residual)
        #expect(pooled.rows == 4 && pooled.columns == 2)
        for r in 0..<4 {
            let a: Double = pooled[r, 0], b: Double = pooled[r, 1]
            let meanSquare = (a * a + b * b) / 2
            #expect(abs(meanSquare - 1) < 1e-12)
        }
        let root2: Double = 2.0.squareRoot()
        #expect(abs(pooled[2, 0]) < 1e-15)
        #expect(abs(pooled[2, 1] - root2) < 1e-12)
        #expect(throws: ClaimError.self) { try TDCompressingAutoencoder.pooledUnitRMS([Matrix([[0, 0], [1, 1]])]) }
    }

    @Test("scores: SST is taken around each group's mean; a rank-2 affine cloud has PCA-2 R² = 1")
    func scoresAndPCA() throws {
        var rng = PCG64(seed: 3)
        // 40 points x = μ + a·p + b·q in 6 dimensions: exactly rank 2 around the mean.
        let p = (0..<6).map { _ in rng.nextGaussian() }, q = (0..<6).map { _ in rng.nextGaussian() }
        let x = Matrix((0..<40).map { _ in
            let a = rng.nextGaussian(), b = rng.nextGaussian()
            return (0..<6).map { 1.5 + a * p[$0] + b * q[$0] }
        })
        let errors = try TDCompressingAutoencoder.rankTwoPCASquaredErrors(x)
        #expect(errors.allSatisfy { $0 < 1e-9 })
        let labels = (0..<40).map { $0 % 2 }
        let perfect = try TDCompressingAutoencoder.scores(x, squaredErrors: errors, labels: labels, groups: 2)
        #expect(perfect.r2.allSatisfy { abs($0 - 1) < 1e-9 })
        // Predicting each group's mean gives R² = 0 exactly when SST is centred on that mean.
        let total = TDCompressingAutoencoder.totalSquares(x, labels: labels, groups: 2)
        var meanErrors = [Double](repeating: 0, count: 40)
        for g in 0..<2 {
            let rows = (0..<40).filter { labels[$0] == g }
            let centre = (0..<6).map { c in rows.reduce(0) { $0 + x[$1, c] } / Double(rows.count) }
            for r in rows {
                var e = 0.0
                for c in 0..<6 { e += (x[r, c] - centre[c]) * (x[r, c] - centre[c]) }
                meanErrors[r] = e
            }
        }
        let baseline = try TDCompressingAutoencoder.scores(x, squaredErrors: meanErrors, labels: labels, groups: 2)
        #expect(baseline.r2.allSatisfy { abs($0) < 1e-12 })
        for g in 0..<2 {
            let expected: Double = total[g] / 120  // 20 rows × 6 columns per group
            #expect(abs(baseline.mse[g] - expected) < 1e-12)
        }
        #expect(throws: ClaimError.self) {
            try TDCompressingAutoencoder.scores(Matrix(rows: 4, columns: 2, repeating: 1), squaredErrors: [0, 0, 0, 0],
                                                labels: [0, 0, 1, 1], groups: 2)
        }
    }

    @Test("a 2-D autoencoder reconstructs unstructured early layers worse; shuffled labels erase the difference")
    func earlyLayersWorseOnSyntheticStates() throws {
        let samples = 80, layers = 9
        let pooled = try TDCompressingAutoencoder.pooledUnitRMS(states(layers: layers, noisy: 3, samples: samples, width: 12))
        let training = TDCompressingAutoencoder.Training(steps: 1500, batchSize: 32, learningRate: 5e-3, hidden: 24, bottleneck: 2, seed: 5)
        let fit = TDCompressingAutoencoder.fit(pooled, training)
        let firstLosses: Double = fit.stepLosses.prefix(50).reduce(0, +)
        let lastLosses: Double = fit.stepLosses.suffix(50).reduce(0, +)
        #expect(lastLosses < 0.5 * firstLosses)
        let labels = (0..<pooled.rows).map { $0 / samples }
        let scores = try TDCompressingAutoencoder.scores(pooled, squaredErrors: fit.squaredErrors, labels: labels, groups: layers)
        let early: Double = scores.r2[0..<3].reduce(0, +) / 3
        let late: Double = scores.r2[6..<9].reduce(0, +) / 3
        print("synthetic CAE R² per layer \(scores.r2.map { ($0 * 1000).rounded() / 1000 })")
        #expect(late - early > 0.4, "early \(early), late \(late)")
        var rng = PCG64(seed: 1, stream: 2)
        let shuffled = rng.permutation(pooled.rows).map { labels[$0] }
        let mixed = try TDCompressingAutoencoder.scores(pooled, squaredErrors: fit.squaredErrors, labels: shuffled, groups: layers)
        let mixedEarly: Double = mixed.r2[0..<3].reduce(0, +) / 3
        let mixedLate: Double = mixed.r2[6..<9].reduce(0, +) / 3
        #expect(abs(mixedLate - mixedEarly) < 0.1, "shuffled early \(mixedEarly), late \(mixedLate)")
        // The same settings give the same bits.
        #expect(TDCompressingAutoencoder.fit(pooled, training).squaredErrors == fit.squaredErrors)
    }
}

@Suite("TD-CAE on SmolLM2", .serialized, .enabled(if: Fixtures.available(Fixtures.smolLM2), "run `make model` first"))
struct CAETests {
    let claim = TDCompressingAutoencoder()
    let parameters: [String: ParameterValue] = ["steps": .int(300), "batch": .int(64)]

    func context(_ subject: Subject, resources: (any ClaimResources)? = nil) -> ClaimContext {
        var context = SmolLM2Claims.context(subject, corpus: "wikitext", count: 64, tokens: 16, parameters: parameters)
        if let resources { context.resources = resources }
        return context
    }

    func curve(_ outcome: Checked, _ name: String) -> [Double] {
        outcome.metrics.filter { $0.name == name && $0.layer != nil }.sorted { $0.layer! < $1.layer! }.map(\.value)
    }

    @Test("model, layer-shuffle and random-init runs: finite per-layer curves, shuffle flat and refuted, random-init informational")
    func subjects() throws {
        let model = try claim.check(context(.model))
        let shuffle = try claim.check(context(.control(TDCompressingAutoencoder.layerShuffleControl)))
        let random = try claim.check(context(.control(RandomInitialization.controlName)))
        for (name, outcome) in [("model", model), ("layer-shuffle", shuffle), ("random-init", random)] {
            let r2 = curve(outcome, "r2")
            print("TD-CAE \(name) \(outcome.verdict): R² \(r2.map { ($0 * 1000).rounded() / 1000 }), gap \(outcome.criteria.map(\.observed))")
            #expect(r2.count == 31 && r2.allSatisfy { $0.isFinite && $0 <= 1 })
            #expect(curve(outcome, "mse").count == 31 && curve(outcome, "pca2_r2").count == 31)
        }
        #expect(shuffle.verdict == .refuted)
        #expect(abs(try #require(SmolLM2Claims.metric(shuffle, "early_gap"))) < 0.05)
        // Training never sees labels: the shuffle control reuses the model's autoencoder.
        #expect(SmolLM2Claims.metric(shuffle, "r2_pooled") == SmolLM2Claims.metric(model, "r2_pooled"))
        #expect(random.verdict == .informational)
        #expect(model.verdict == .supported || model.verdict == .refuted)
        // The embedding h₀ is the hardest state to reconstruct, in energy terms, for the trained model.
        let mse = curve(model, "mse")
        #expect(mse[0] > mse[1...].max()!)
    }

    @Test("same seed and inputs, recomputed from scratch (fresh model, capture and training): bitwise identical metrics")
    func deterministic() throws {
        let fresh = ModelResources(modelURL: Fixtures.smolLM2, corpora: [
            "wikitext": Fixtures.sharedDirectory.appendingPathComponent("corpora/wikitext-2-raw/wiki.test.raw"),
        ], randomInitialization: RandomInitialization(seed: 1, std: 0.02))
        let first = try claim.check(context(.model))
        let second = try claim.check(context(.model, resources: fresh))
        #expect(first.metrics == second.metrics)
        #expect(!first.metrics.isEmpty)
    }
}
