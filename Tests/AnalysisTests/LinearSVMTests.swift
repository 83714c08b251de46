import Testing
@testable import Analysis

@Suite("Linear SVM")
struct LinearSVMTests {
    /// Two Gaussian clouds in 20-D, 2 samples per group, means ±`separation`/2 along axis 0.
    static func clouds(_ n: Int, separation: Double, seed: UInt64) -> (Matrix, [Bool], [Int]) {
        var rng = PCG64(seed: seed)
        var storage: [Double] = [], labels: [Bool] = [], groups: [Int] = []
        for i in 0..<n {
            let positive = i % 2 == 0
            for d in 0..<20 {
                let shift = d == 0 ? (positive ? separation / 2 : -separation / 2) : 0
                // Unequal scales so the standardization matters.
                storage.append(shift + rng.nextGaussian() * Double(d + 1))
            }
            labels.append(positive)
            groups.append(i / 2)
        }
        return (Matrix(rows: n, columns: 20, storage: storage), labels, groups)
    }

    @Test func separableDataIsClassified() {
        let (x, labels, groups) = Self.clouds(400, separation: 8, seed: 1)
        let cv = CrossValidation(features: x, labels: labels, groups: groups, folds: 5)
        #expect(cv.accuracy > 0.97)
        #expect(cv.foldAccuracies.count == 5)
        let model = LinearSVM(features: x, labels: labels)
        #expect(model.epochs < 1000)
        let weights = model.weights.map { abs($0) }
        #expect(weights[0] == weights.max())
    }

    @Test func shuffledLabelsGiveChance() {
        let (x, labels, groups) = Self.clouds(400, separation: 8, seed: 2)
        let null = CrossValidation.permutationNull(features: x, labels: labels, groups: groups, permutations: 5, seed: 3)
        #expect(null.count == 5)
        let mean = null.reduce(0, +) / 5
        #expect(abs(mean - 0.5) < 0.06)
        #expect(null.allSatisfy { $0 < 0.62 })
    }

    @Test func crossValidationIsDeterministicAndRespectsGroups() {
        let (x, labels, groups) = Self.clouds(100, separation: 1, seed: 4)
        let a = CrossValidation(features: x, labels: labels, groups: groups, seed: 9)
        let b = CrossValidation(features: x, labels: labels, groups: groups, seed: 9)
        #expect(a == b)
        // Overlapping clouds: accuracy above chance but not perfect.
        #expect(a.accuracy > 0.55 && a.accuracy < 0.95)
    }

    @Test("solved to a stated tolerance: converged flag, duality gap shrinking with the tolerance, capped runs say so")
    func toleranceAndDualityGap() {
        let (x, labels, groups) = Self.clouds(200, separation: 1, seed: 5)
        let loose = LinearSVM(features: x, labels: labels, tolerance: 1e-1)
        let tight = LinearSVM(features: x, labels: labels, tolerance: 1e-6, maxEpochs: 100_000)
        #expect(loose.converged && tight.converged)
        #expect(tight.relativeDualityGap >= 0 && tight.relativeDualityGap < 1e-6)
        #expect(loose.relativeDualityGap >= tight.relativeDualityGap)
        #expect(tight.epochs >= loose.epochs)
        let capped = LinearSVM(features: x, labels: labels, tolerance: 1e-12, maxEpochs: 1)
        #expect(!capped.converged && capped.epochs == 1 && capped.relativeDualityGap > tight.relativeDualityGap)
        // Cross-validation reports the worst fold and each sample's held-out outcome.
        let cv = CrossValidation(features: x, labels: labels, groups: groups, tolerance: 1e-6, maxEpochs: 100_000)
        #expect(cv.converged && cv.maxRelativeDualityGap < 1e-6)
        #expect(abs(Double(cv.correct.filter { $0 }.count) / 200 - cv.accuracy) < 1e-12)
        let cappedCV = CrossValidation(features: x, labels: labels, groups: groups, tolerance: 1e-12, maxEpochs: 1)
        #expect(!cappedCV.converged && cappedCV.epochs == 1)
    }
}
