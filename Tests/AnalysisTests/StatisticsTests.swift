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
}
