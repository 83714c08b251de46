import Analysis
import Evidence
import Foundation
import Testing

@Suite("Resampling intervals on synthetic data with a known sampling distribution")
struct ResamplingTests {
    let settings = ResamplingSettings(level: 0.95, replicates: 1000, groups: 10)

    /// `count` draws of N(mean, sd²) from a seeded generator.
    func gaussian(_ count: Int, mean: Double = 0, sd: Double = 1, seed: UInt64) -> [Double] {
        var rng = PCG64(seed: seed, stream: 99)
        return (0..<count).map { _ in rng.nextGaussian(mean: mean, std: sd) }
    }

    @Test("the percentile bootstrap of a mean covers the truth ≈ 95 % of the time, with the width of 2·1.96·σ/√N")
    func bootstrapCoverage() {
        let n = 100, datasets = 300
        var covered = 0, widths: [Double] = []
        for d in 0..<datasets {
            let x = gaussian(n, mean: 3, sd: 2, seed: UInt64(d))
            let bootstrap = Bootstrap(sampleCount: n, settings: ResamplingSettings(level: 0.95, replicates: 400, groups: 10), seed: UInt64(d))
            let replicates = bootstrap.indices.map { drawn in drawn.reduce(0) { $0 + x[$1] } / Double(n) }
            let interval = bootstrap.interval(replicates, unit: "samples")
            if interval.low <= 3 && 3 <= interval.high { covered += 1 }
            widths.append(interval.high - interval.low)
        }
        let coverage = Double(covered) / Double(datasets)
        #expect(coverage > 0.90 && coverage < 0.99, "coverage \(coverage)")
        let expected = 2 * 1.96 * 2 / Double(n).squareRoot()
        #expect(abs(Statistics.mean(widths) / expected - 1) < 0.1, "mean width \(Statistics.mean(widths)) vs \(expected)")
    }

    @Test("replicate mean weights are a GEMM away from every resampled mean")
    func meanWeights() {
        let x = gaussian(50, seed: 7)
        let bootstrap = Bootstrap(sampleCount: 50, settings: ResamplingSettings(level: 0.95, replicates: 100, groups: 10), seed: 1)
        let means = Matrix.product(bootstrap.meanWeights(), Matrix(rows: 50, columns: 1, storage: x))
        for r in [0, 17, 99] {
            let direct = bootstrap.indices[r].reduce(0) { $0 + x[$1] } / 50
            #expect(abs(means[r, 0] - direct) < 1e-12)
        }
    }

    @Test("resamples are a pure function of the seed")
    func determinism() {
        let a = Bootstrap(sampleCount: 30, settings: settings, seed: 5), b = Bootstrap(sampleCount: 30, settings: settings, seed: 5)
        let c = Bootstrap(sampleCount: 30, settings: settings, seed: 6)
        #expect(a.indices == b.indices)
        #expect(a.indices != c.indices)
        #expect(GroupJackknife(sampleCount: 30, settings: settings, seed: 5).groups == GroupJackknife(sampleCount: 30, settings: settings, seed: 5).groups)
    }

    @Test("too many undefined replicates leave the statistic unbounded")
    func unbounded() {
        let values = (0..<100).map { $0 < 10 ? Double.nan : Double($0) }
        #expect(!Bootstrap.percentileInterval(values, level: 0.95, sampleSize: 100, unit: "x").isBounded)
        let fewNaN = (0..<100).map { $0 < 3 ? Double.nan : Double($0) }
        #expect(Bootstrap.percentileInterval(fewNaN, level: 0.95, sampleSize: 100, unit: "x").isBounded)
    }

    @Test("the delete-a-group jackknife of a mean gives σ/√N and covers the truth ≈ 95 % of the time")
    func jackknifeCoverage() {
        let n = 200, datasets = 300
        var covered = 0, ratios: [Double] = []
        for d in 0..<datasets {
            let x = gaussian(n, mean: -1, sd: 3, seed: 1000 + UInt64(d))
            let jackknife = GroupJackknife(sampleCount: n, settings: settings, seed: UInt64(d))
            #expect(jackknife.groups.map(\.count).reduce(0, +) == n)
            let estimate = Statistics.mean(x)
            let replicates = jackknife.groups.indices.map { g in Statistics.mean(jackknife.kept(g).map { x[$0] }) }
            let interval = jackknife.interval(estimate: estimate, replicateValues: replicates, unit: "samples")
            if interval.low <= -1 && -1 <= interval.high { covered += 1 }
            let t = StudentT.quantile(0.975, degreesOfFreedom: 9)
            ratios.append((interval.high - interval.low) / (2 * t * 3 / Double(n).squareRoot()))
        }
        let coverage = Double(covered) / Double(datasets)
        #expect(coverage > 0.90 && coverage < 0.99, "coverage \(coverage)")
        #expect(abs(Statistics.mean(ratios) - 1) < 0.12, "width ratio \(Statistics.mean(ratios))")
    }

    @Test("Student-t and Beta quantiles match tabulated values")
    func quantiles() {
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 4) - 2.7764451052) < 1e-8)
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 9) - 2.2621571628) < 1e-8)
        #expect(abs(StudentT.quantile(0.95, degreesOfFreedom: 1) - 6.3137515147) < 1e-7)
        #expect(abs(StudentT.quantile(0.025, degreesOfFreedom: 30) + 2.0422724563) < 1e-8)
        #expect(abs(BetaFunction.regularizedIncomplete(0.5, a: 2, b: 3) - 0.6875) < 1e-12)
    }

    @Test("the Clopper–Pearson interval matches tabulated values")
    func binomial() {
        let none = ExactIntervals.binomial(successes: 0, trials: 10, level: 0.95, sampleSize: 10, unit: "draws")
        #expect(none.low == 0 && abs(none.high - 0.3084971) < 1e-6)
        let half = ExactIntervals.binomial(successes: 5, trials: 10, level: 0.95, sampleSize: 10, unit: "draws")
        #expect(abs(half.low - 0.1870860) < 1e-6 && abs(half.high - 0.8129140) < 1e-6)
    }

    @Test("the fold interval is the t interval of the fold scores")
    func folds() {
        let interval = ExactIntervals.folds([0.5, 0.6, 0.55, 0.65, 0.6], level: 0.95, sampleSize: 500)
        let mean = 0.58, sd = Statistics.standardDeviation([0.5, 0.6, 0.55, 0.65, 0.6])
        let half = 2.7764451052 * sd / 5.0.squareRoot()
        #expect(abs(interval.low - (mean - half)) < 1e-9 && abs(interval.high - (mean + half)) < 1e-9)
    }

    @Test("weighted-moment correlations equal the correlations of the resampled rows")
    func resampledCorrelations() {
        var rng = PCG64(seed: 3)
        let n = 40, d = 6
        var x = Matrix(rows: n, columns: d), y = Matrix(rows: n, columns: d)
        for r in 0..<n { for c in 0..<d {
            let shared = rng.nextGaussian()
            x[r, c] = 100 + shared + 0.3 * rng.nextGaussian()
            y[r, c] = -50 + 2 * shared + rng.nextGaussian()
        } }
        let bootstrap = Bootstrap(sampleCount: n, settings: ResamplingSettings(level: 0.95, replicates: 50, groups: 10), seed: 4)
        let weights = bootstrap.meanWeights()
        let r = ResampledColumns.correlations(ResampledColumns(x, weights: weights), ResampledColumns(y, weights: weights), weights: weights)
        for replicate in [0, 25, 49] {
            let drawn = bootstrap.indices[replicate]
            let direct = Statistics.columnCorrelations(x.rows(at: drawn), y.rows(at: drawn))
            for c in 0..<d { #expect(abs(r[replicate, c] - direct[c]) < 1e-10) }
        }
    }

    @Test("the selection median gives the sorted median's bits")
    func selectionMedian() {
        var rng = PCG64(seed: 11)
        for count in [1, 2, 3, 10, 57, 576] {
            let values = (0..<count).map { _ in rng.nextGaussian() }
            #expect(Statistics.medianIgnoringNaN(values).bitPattern == Statistics.median(values).bitPattern)
            #expect(Statistics.medianIgnoringNaN(values + [.nan, .nan]).bitPattern == Statistics.median(values).bitPattern)
        }
        #expect(Statistics.medianIgnoringNaN([Double.nan]).isNaN)
    }
}
