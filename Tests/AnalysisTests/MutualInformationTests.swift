import Foundation
import Testing
@testable import Analysis

@Suite("Mutual information")
struct MutualInformationTests {
    static func bivariateNormal(_ n: Int, rho: Double, seed: UInt64) -> ([Double], [Double]) {
        var rng = PCG64(seed: seed)
        var x: [Double] = [], y: [Double] = []
        for _ in 0..<n {
            let a = rng.nextGaussian(), b = rng.nextGaussian()
            x.append(a)
            y.append(rho * a + (1 - rho * rho).squareRoot() * b)
        }
        return (x, y)
    }

    @Test func negativeExpMatchesLibm() {
        var worst = 0.0
        for i in 0...70_000 {
            let t = -Double(i) * 0.01
            worst = max(worst, abs(negativeExp(t) - exp(t)) / exp(t))
        }
        #expect(worst < 1e-15)
        #expect(negativeExp(0) == 1 && negativeExp(-800) == 0)
    }

    @Test func inverseNormalCDFInvertsErfc() {
        for p in [1e-10, 0.001, 0.02, 0.2, 0.5, 0.77, 0.98, 0.999999] {
            let x = inverseNormalCDF(p)
            #expect(abs(0.5 * erfc(-x / 2.0.squareRoot()) - p) < 1e-14 * max(1, p / 1e-3))
        }
        #expect(abs(inverseNormalCDF(0.975) - 1.959963984540054) < 1e-12)
    }

    /// For a bivariate normal, I = −½ln(1 − ρ²) = 0.5108 nats at ρ = 0.8.
    @Test func kdeMatchesGaussianMutualInformation() {
        let (x, y) = Self.bivariateNormal(2000, rho: 0.8, seed: 31)
        let truth = -0.5 * log(1 - 0.64)
        let kde = MutualInformation.kernelDensity(x, y)
        let copula = MutualInformation.gaussianCopula(x, y)
        #expect(abs(kde - truth) < 0.06)
        #expect(abs(copula - truth) < 0.03)
    }

    @Test func independentSeriesGiveNearZero() {
        let (x, y) = Self.bivariateNormal(2000, rho: 0, seed: 32)
        #expect(abs(MutualInformation.kernelDensity(x, y)) < 0.02)
        #expect(abs(MutualInformation.gaussianCopula(x, y)) < 0.005)
    }

    @Test func invariancesAndDegenerateInput() {
        let (x, y) = Self.bivariateNormal(400, rho: 0.6, seed: 33)
        let kde = MutualInformation.kernelDensity(x, y)
        // Affine maps are removed by standardization; monotone maps leave the copula estimate unchanged.
        #expect(abs(MutualInformation.kernelDensity(x.map { 3 * $0 + 1 }, y) - kde) < 1e-10)
        #expect(MutualInformation.gaussianCopula(x.map { exp($0) }, y) == MutualInformation.gaussianCopula(x, y))
        #expect(MutualInformation.kernelDensity(x, Array(repeating: 2, count: 400)).isNaN)
    }

    /// A point far from all others underflows every kernel; the log-space fallback keeps Î finite.
    @Test func heavyTailOutlierStaysFinite() {
        var (x, y) = Self.bivariateNormal(400, rho: 0.5, seed: 34)
        x[0] = 1e6
        y[0] = -1e6
        #expect(MutualInformation.kernelDensity(x, y).isFinite)
    }
}

@Suite("Four-lane kernels")
struct VectorizedTests {
    @Test func lanesAreBitIdenticalToScalar() {
        var rng = PCG64(seed: 12)
        for _ in 0..<20_000 {
            let x = SIMD4<Double>(rng.nextDouble() + 1e-300, rng.nextDouble(), rng.nextDouble() * 1e-30 + 1e-200, rng.nextDouble() * 4)
            let logs = portableLog(x)
            let t = SIMD4<Double>(-rng.nextDouble() * 40, -rng.nextDouble(), -rng.nextDouble() * 800, 0)
            let exps = negativeExp(t)
            for lane in 0..<4 {
                if x[lane] > 0 { #expect(logs[lane].bitPattern == portableLog(x[lane]).bitPattern) }
                #expect(exps[lane].bitPattern == negativeExp(t[lane]).bitPattern)
            }
        }
    }
}
