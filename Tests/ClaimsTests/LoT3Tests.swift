import Analysis
@testable import Claims
import Testing
import TestSupport

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
