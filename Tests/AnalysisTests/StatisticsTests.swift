import Foundation
import Testing
@testable import Analysis

@Suite("Statistics")
struct StatisticsTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance }

    @Test func momentsByHand() {
        let x: [Double] = [2, 4, 4, 4, 5, 5, 7, 9]
        #expect(Statistics.mean(x) == 5)
        #expect(Self.close(Statistics.variance(x), 32.0 / 7))
        #expect(Self.close(Statistics.standardDeviation(x), (32.0 / 7).squareRoot()))
        // [1, 2, 3, 4]: m2 = 1.25, m4 = 2.5625 → κ = 2.5625/1.5625 − 3 = −1.36.
        #expect(Self.close(Statistics.excessKurtosis([1, 2, 3, 4]), -1.36))
        // [0, 0, 3]: m2 = 2, m3 = 2 → 2/2^1.5.
        #expect(Self.close(Statistics.skewness([0, 0, 3]), 1 / 2.0.squareRoot()))
    }

    @Test func quantilesAndMedians() {
        #expect(Statistics.quantile([4, 1, 3, 2], 0.25) == 1.75)
        #expect(Statistics.quantile([4, 1, 3, 2], 0) == 1 && Statistics.quantile([4, 1, 3, 2], 1) == 4)
        #expect(Statistics.median([3, 1, 2, 4]) == 2.5 && Statistics.median([5, 1, 3]) == 3)
        #expect(Statistics.medianAbsoluteDeviation([1, 2, 3, 4, 100]) == 1)
    }

    /// x = 1…5, y = (2, 4, 5, 4, 5): Sxy = 6, Sxx = 10, Syy = 6 → r = 6/√60.
    /// Average ranks of y are (1, 2.5, 4.5, 2.5, 4.5) → ρ = 7/√90.
    @Test func pearsonAndSpearmanByHand() {
        let x: [Double] = [1, 2, 3, 4, 5], y: [Double] = [2, 4, 5, 4, 5]
        #expect(Self.close(Statistics.pearson(x, y), 6 / 60.0.squareRoot()))
        #expect(Statistics.ranks(y) == [1, 2.5, 4.5, 2.5, 4.5])
        #expect(Self.close(Statistics.spearman(x, y), 7 / 90.0.squareRoot()))
        #expect(Self.close(Statistics.spearman(x, x.map { exp($0) }), 1))
        #expect(Statistics.pearson(x, [1, 1, 1, 1, 1]).isNaN)
    }

    @Test func columnCorrelationsSkipDegenerateColumns() {
        let x = Matrix([[1, 7, 1], [2, 7, 2], [3, 7, 3], [4, 7, 4], [5, 7, 5]])
        let y = Matrix([[2, 1, 5], [4, 2, 4], [5, 3, 3], [4, 4, 2], [5, 5, 1]])
        let r = Statistics.columnCorrelations(x, y)
        #expect(Self.close(r[0], 6 / 60.0.squareRoot()))
        #expect(r[1].isNaN)
        #expect(Self.close(r[2], -1))
    }

    @Test func densityAndSpectrum() {
        #expect(Statistics.hoyerDensity([1, 0, 0, 0]) == 0.25)
        #expect(Statistics.hoyerDensity([1, -1, 1, 1]) == 1)
        #expect(Self.close(Statistics.hoyerDensity([3, 4]), 0.98))
        #expect(Self.close(Statistics.participationRatio(singularValues: [1, 1, 1]), 3))
        #expect(Self.close(Statistics.participationRatio(singularValues: [2, 1]), 25.0 / 17))
        // σ² = 9, 4, 1, 1 (total 15): 90% needs 9 + 4 + 1 = 14 ≥ 13.5.
        #expect(Statistics.leadingCount(singularValues: [1, 3, 1, 2], fraction: 0.9) == 3)
        #expect(Statistics.leadingCount(singularValues: [3, 2, 1, 1], fraction: 0.5) == 1)
        #expect(Statistics.leadingCount(singularValues: [3, 2, 1, 1], fraction: 1) == 4)
        #expect(Self.close(Statistics.cosineSimilarity([1, 0], [1, 1]), 1 / 2.0.squareRoot()))
    }

    @Test func hoyerOfGaussianVectorIsTwoOverPi() {
        var rng = PCG64(seed: 21)
        let x = (0..<200_000).map { _ in rng.nextGaussian() }
        #expect(abs(Statistics.hoyerDensity(x) - 2 / Double.pi) < 0.003)
    }

    /// p uniform over 2, q = (1/4, 3/4): KL = ½ln(½/¼) + ½ln(½/¾) = ½ln(4/3).
    @Test func klDivergenceAndLogSumExp() {
        #expect(Self.close(Statistics.klDivergence(logitsP: [0.0, 0.0], logitsQ: [0.0, log(3.0)]), 0.5 * log(4.0 / 3)))
        #expect(Self.close(Statistics.klDivergence(logitsP: [Float(1), 2, 3], logitsQ: [Float(1), 2, 3]), 0))
        #expect(Self.close(Statistics.logSumExp([1000, 1000]), 1000 + log(2.0)))
        let lsm = Statistics.logSoftmax([1, 2, 3])
        #expect(Self.close(lsm.map(exp).reduce(0, +), 1))
        // A token with probability that underflows in p contributes ε·(ln ε − ln q).
        let kl = Statistics.klDivergence(logitsP: [0.0, -2000.0], logitsQ: [0.0, 0.0])
        let expected = log(2.0) + Double.ulpOfOne * (log(Double.ulpOfOne) - log(0.5))
        #expect(Self.close(kl, expected))
    }

    /// Rows like LoT-2's: a trained model's (spread of a few units) and a random-init model's, whose
    /// logits are so wide that most of the vocabulary sits in or below exp's subnormal band.
    static func logitRows(count: Int, width: Int, spread: Double, seed: UInt64) -> [[Float]] {
        var rng = PCG64(seed: seed)
        return (0..<count).map { _ in (0..<width).map { _ in Float(rng.nextGaussian(std: spread)) } }
    }

    @Test("the four-lane Float32 kernels agree with the Float64 libm reference to a few ulp, tails and rules included")
    func logitKernelsMatchTheReference() {
        // 1,003: not a multiple of four, so the scalar tail runs too.
        for (spread, seed) in [(3.0, 1), (250.0, 2), (900.0, 3)] as [(Double, UInt64)] {
            let rows = Self.logitRows(count: 6, width: 1_003, spread: spread, seed: seed)
            for (p, q) in zip(rows, rows.dropFirst()) {
                let widenedP = p.map(Double.init), widenedQ = q.map(Double.init)
                let reference = Statistics.klDivergence(logitsP: widenedP, logitsQ: widenedQ)
                let fused = Statistics.klDivergence(logitsP: p, logitsQ: q)
                #expect(abs(fused - reference) <= 1e-12 * max(1, abs(reference)), "spread \(spread): \(fused) vs \(reference)")
                let normalizer = p.withUnsafeBufferPointer { Statistics.logSumExp($0) }
                #expect(abs(normalizer - Statistics.logSumExp(widenedP)) <= 4 * normalizer.ulp.magnitude + 1e-15 * abs(normalizer))
                // A known normalizer gives the same bits as one computed inside.
                let known = p.withUnsafeBufferPointer { pp in
                    q.withUnsafeBufferPointer { qq in
                        Statistics.klDivergence(logitsP: pp, logitsQ: qq, normalizerP: normalizer, normalizerQ: nil)
                    }
                }
                #expect(known == fused)
            }
        }
        // The machine-epsilon rule, in p and in q, on a row with one entry far below the rest.
        let p: [Float] = [0, -2000, 0, 0, 0]
        let q: [Float] = [0, 0, 0, 0, -2000]
        let expected = Statistics.klDivergence(logitsP: p.map(Double.init), logitsQ: q.map(Double.init))
        #expect(abs(Statistics.klDivergence(logitsP: p, logitsQ: q) - expected) <= 1e-14)
        // The subnormal band (−746, −708): libm's exp there, so p is not 0 and keeps its own log.
        let band: [Float] = [0, -720, 0, 0]
        #expect(Statistics.klDivergence(logitsP: band, logitsQ: band) == 0)
        #expect(LogitKernels.exponential(-720) == exp(-720.0) && LogitKernels.exponential(-746) == 0)
        // Degenerate rows: all −∞ has no normalizer, a NaN poisons it.
        #expect([-Float.infinity, -.infinity].withUnsafeBufferPointer { Statistics.logSumExp($0) } == -.infinity)
        #expect([Float(1), .nan, 2, 3, 4].withUnsafeBufferPointer { Statistics.logSumExp($0) }.isNaN)
    }
}
