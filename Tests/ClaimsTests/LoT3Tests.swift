import Analysis
@testable import Claims
import Testing
import TestSupport

extension LoTModelTests {
@Suite("LoT-3 Gaussian residuals")
struct LoT3Tests {
    let claim = LoT3GaussianResiduals()

    @Test("supported on SmolLM2 with λ near the pilot's 0.18")
    func trained() throws {
        let outcome = try claim.check(LoTSmoke.context())
        let lambda = try #require(SmolLM2Claims.metric(outcome, "lambda_interior"))
        print("LoT-3 trained: \(["lambda_interior", "r2_interior", "lambda_all", "r2_all", "log_alpha_all", "c1", "c2", "A1_max_tau1_late", "A3_middle_third"].map { "\($0)=\(SmolLM2Claims.metric(outcome, $0)!)" })")
        print("LoT-3 trained: A3_tau1 \((1...29).map { SmolLM2Claims.metric(outcome, "A3_tau1", layer: $0)! })")
        print("LoT-3 trained: A2_tau1 \((1...29).map { SmolLM2Claims.metric(outcome, "A2_tau1", layer: $0)! })")
        #expect(outcome.verdict == .supported, "\(outcome.criteria)")
        #expect(lambda > 0.12 && lambda < 0.25)
        #expect(SmolLM2Claims.metric(outcome, "pairs") == 435)
        // The Q–Q summary: the normal's quantiles are symmetric around 0, and each representative step's
        // standardized residual quantiles increase and have their median near 0.
        let probabilities = LoT3GaussianResiduals.quantileProbabilities
        let normal = probabilities.indices.compactMap { SmolLM2Claims.metric(outcome, "qq_gaussian", layer: $0) }
        #expect(normal.count == probabilities.count && abs(normal[9]) < 1e-12 && abs(normal.first! + normal.last!) < 1e-9)
        for t in [5, 15, 25] {
            let quantiles = probabilities.indices.compactMap { SmolLM2Claims.metric(outcome, String(format: "qq_t%02d", t), layer: $0) }
            #expect(quantiles.count == probabilities.count && zip(quantiles, quantiles.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(abs(quantiles[9]) < 0.5 && quantiles.first! < -2 && quantiles.last! > 2)
        }
    }

    @Test("the random-init control is refuted by the variance fit, not by kurtosis")
    func randomInit() throws {
        let outcome = try claim.check(LoTSmoke.context(.control(RandomInitialization.controlName)))
        print("LoT-3 random-init: \(["lambda_interior", "r2_interior", "lambda_all", "r2_all", "c1", "c2", "A1_max_tau1_late", "A3_middle_third"].map { "\($0)=\(SmolLM2Claims.metric(outcome, $0)!)" })")
        #expect(outcome.verdict == .refuted)
        let lambda = try #require(SmolLM2Claims.metric(outcome, "lambda_interior"))
        let r2 = try #require(SmolLM2Claims.metric(outcome, "r2_interior"))
        #expect(lambda < 0.1 || r2 < 0.8, "λ \(lambda), R² \(r2)")
        let fitCriteria = outcome.criteria.filter { $0.statistic == "r2_interior" || $0.statistic == "lambda_interior" }
        #expect(fitCriteria.count == 3 && fitCriteria.contains { $0.outcome == .failed })
    }
}
}

@Suite("LoT basis alignment")
struct TrajectoryAlignmentTests {
    @Test("a permuted, sign-flipped basis is recovered, and σ follows the permutation")
    func recoversPermutedBasis() throws {
        var rng = PCG64(seed: 7)
        let d = 12
        let reference = try Matrix.randomOrthogonal(dimension: d, using: &rng)
        let sigma = (0..<d).map { Double(d - $0) }
        // Shuffle the rows, flip every other sign, and carry σ along with its row.
        let order = rng.permutation(d)
        var shuffledRows: [[Double]] = []
        for (k, source) in order.enumerated() {
            shuffledRows.append(reference.row(source).map { k.isMultiple(of: 2) ? -$0 : $0 })
        }
        let shuffled = Matrix(shuffledRows)
        let shuffledSigma = order.map { sigma[$0] }

        let aligned = TrajectoryBases.align(previous: reference, current: shuffled, singularValues: shuffledSigma)
        #expect(aligned.singularValues == sigma)
        for i in 0..<d {
            #expect(order[aligned.permutation[i]] == i)
            for c in 0..<d { #expect(abs(aligned.basis[i, c] - reference[i, c]) < 1e-12) }
        }
    }

    @Test("a slightly rotated basis keeps its order and non-negative overlaps")
    func slightRotation() throws {
        var rng = PCG64(seed: 11)
        let d = 10
        let reference = try Matrix.randomOrthogonal(dimension: d, using: &rng)
        // Perturb, flip all signs, then re-orthonormalize through the SVD's row basis.
        var noisy = reference
        noisy.withUnsafeMutableStorage { s in
            for k in s.indices { s[k] = -s[k] + 0.02 * rng.nextGaussian() }
        }
        let current = try noisy.singularValueDecomposition()
        let rebuilt = Matrix.product(current.u, current.vt)
        let aligned = TrajectoryBases.align(previous: reference, current: rebuilt, singularValues: Array(repeating: 1, count: d))
        #expect(aligned.permutation == Array(0..<d))
        let overlaps = Matrix.product(reference, aligned.basis, transposeRight: true)
        for i in 0..<d { #expect(overlaps[i, i] > 0.95) }
    }
}
