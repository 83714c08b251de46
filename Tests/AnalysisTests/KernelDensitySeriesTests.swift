import Foundation
import Testing
@testable import Analysis

@Suite("Prepared-series KDE mutual information")
struct KernelDensitySeriesTests {
    /// The prepared path is the same estimator as `kernelDensity(_:_:)`, up to rounding.
    @Test func matchesDirectEstimate() throws {
        for (rho, n) in [(0.0, 203), (0.6, 400), (0.95, 97)] {
            let (x, y) = MutualInformationTests.bivariateNormal(n, rho: rho, seed: 40 + UInt64(n))
            let px = try #require(MutualInformation.KernelDensitySeries(x))
            let py = try #require(MutualInformation.KernelDensitySeries(y.map { 2 * $0 - 5 }))
            let direct = MutualInformation.kernelDensity(x, y)
            #expect(abs(MutualInformation.kernelDensity(px, py) - direct) < 1e-12)
        }
    }

    /// A pairing π gives the estimate for (x_n, y_π(n)): the same as permuting y by hand.
    @Test func pairingEqualsPermutedSeries() throws {
        let (x, y) = MutualInformationTests.bivariateNormal(300, rho: 0.7, seed: 51)
        var rng = PCG64(seed: 52)
        let pairing = rng.permutation(300)
        let px = try #require(MutualInformation.KernelDensitySeries(x))
        let py = try #require(MutualInformation.KernelDensitySeries(y))
        let shuffled = MutualInformation.kernelDensity(px, py, pairing: pairing)
        #expect(abs(shuffled - MutualInformation.kernelDensity(x, pairing.map { y[$0] })) < 1e-12)
        // Shuffling destroys the dependence (true MI at ρ = 0.7 is 0.34 nats): only bias and noise remain.
        #expect(abs(shuffled) < 0.1)
        #expect(MutualInformation.kernelDensity(px, py) > 0.25)
    }

    /// Far outliers underflow the kernels; the log-space fallback matches the direct estimator's.
    @Test func outliersAndDegenerateInput() throws {
        var (x, y) = MutualInformationTests.bivariateNormal(200, rho: 0.5, seed: 53)
        x[0] = 1e6
        y[0] = -1e6
        let px = try #require(MutualInformation.KernelDensitySeries(x))
        let py = try #require(MutualInformation.KernelDensitySeries(y))
        let prepared = MutualInformation.kernelDensity(px, py)
        #expect(prepared.isFinite)
        #expect(abs(prepared - MutualInformation.kernelDensity(x, y)) < 1e-9)
        #expect(MutualInformation.KernelDensitySeries(Array(repeating: 1, count: 50)) == nil)
        #expect(MutualInformation.KernelDensitySeries([1, 2]) == nil)
    }
}
