import Foundation
import Testing
@testable import Analysis

@Suite("Matrix and LAPACK")
struct LinearAlgebraTests {
    static let tall = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 10], [2, -1, 0]])
    /// numpy.linalg.svd(tall, compute_uv=False).
    static let tallSingularValues = [17.416621279395486, 2.3111929504997364, 0.5654116692010752]

    static func maxAbsDifference(_ a: Matrix, _ b: Matrix) -> Double {
        zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
    }

    static func reconstruct(_ svd: SingularValueDecomposition) -> Matrix {
        var us = svd.u
        for r in 0..<us.rows { for c in 0..<us.columns { us[r, c] *= svd.singularValues[c] } }
        return us * svd.vt
    }

    @Test func productTransposeAndSlices() {
        let a = Matrix([[1, 2], [3, 4], [5, 6]])
        let b = Matrix([[1, 0, 2], [0, 1, 3]])
        #expect(a * b == Matrix([[1, 2, 8], [3, 4, 18], [5, 6, 28]]))
        #expect(Matrix.product(a, a, transposeLeft: true) == Matrix([[35, 44], [44, 56]]))
        #expect(Matrix.product(a, b, transposeLeft: true, transposeRight: true) == a.transposed() * b.transposed())
        #expect(a.transposed() == Matrix([[1, 3, 5], [2, 4, 6]]))
        #expect(a.row(1) == [3, 4] && a.column(1) == [2, 4, 6])
        #expect(a.rows(at: [2, 0]) == Matrix([[5, 6], [1, 2]]))
        #expect(b.columns(at: [2, 0]) == Matrix([[2, 1], [3, 0]]))
        #expect(a.applied(to: [1, -1]) == [-1, -1, -1])
        #expect(Matrix(rows: 1, columns: 2, float32: [Float(0.5), -2]) == Matrix([[0.5, -2]]))
        #expect(Matrix.identity(2) == Matrix([[1, 0], [0, 1]]))
    }

    @Test func svdOfTallMatrix() throws {
        let svd = try Self.tall.singularValueDecomposition()
        #expect(svd.u.rows == 4 && svd.u.columns == 3 && svd.vt.rows == 3 && svd.vt.columns == 3)
        for (s, e) in zip(svd.singularValues, Self.tallSingularValues) { #expect(abs(s - e) < 1e-12) }
        #expect(Self.maxAbsDifference(Self.reconstruct(svd), Self.tall) < 1e-12)
        #expect(Self.maxAbsDifference(Matrix.product(svd.u, svd.u, transposeLeft: true), .identity(3)) < 1e-12)
    }

    @Test func svdOfWideMatrix() throws {
        let wide = Self.tall.transposed()
        let svd = try wide.singularValueDecomposition()
        #expect(svd.u.rows == 3 && svd.u.columns == 3 && svd.vt.rows == 3 && svd.vt.columns == 4)
        for (s, e) in zip(svd.singularValues, Self.tallSingularValues) { #expect(abs(s - e) < 1e-12) }
        #expect(Self.maxAbsDifference(Self.reconstruct(svd), wide) < 1e-12)
        #expect(Self.maxAbsDifference(Matrix.product(svd.vt, svd.vt, transposeRight: true), .identity(3)) < 1e-12)
    }

    @Test func svdOfRandomMatrixReconstructs() throws {
        var rng = PCG64(seed: 1)
        let a = Matrix(rows: 60, columns: 25, storage: (0..<1500).map { _ in rng.nextGaussian() })
        let svd = try a.singularValueDecomposition()
        #expect(Self.maxAbsDifference(Self.reconstruct(svd), a) < 1e-12)
        #expect(zip(svd.singularValues, svd.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
    }

    @Test func nonFiniteInputThrows() {
        let bad = Matrix([[1, .nan], [0, 1]])
        #expect(throws: LinearAlgebraError.nonFiniteInput(routine: "dgesdd", rows: 2, columns: 2)) {
            try bad.singularValueDecomposition()
        }
    }

    /// The tridiagonal (1, 2, 1) matrix has eigenvalues 2 − √2, 2, 2 + √2 with eigenvectors (1, ∓√2, 1)/2, (1, 0, −1)/√2.
    @Test func symmetricEigen() throws {
        let a = Matrix([[2, 1, 0], [1, 2, 1], [0, 1, 2]])
        let eig = try a.symmetricEigendecomposition()
        let expected = [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()]
        for (v, e) in zip(eig.values, expected) { #expect(abs(v - e) < 1e-14) }
        let first = eig.vectors.column(0)
        let reference = [0.5, -0.5 * 2.0.squareRoot(), 0.5]
        #expect(abs(abs(Statistics.cosineSimilarity(first, reference)) - 1) < 1e-14)
        // A·V = V·Λ
        var vl = eig.vectors
        for r in 0..<3 { for c in 0..<3 { vl[r, c] *= eig.values[c] } }
        #expect(Self.maxAbsDifference(a * eig.vectors, vl) < 1e-13)
    }

    @Test func leastSquaresRecoversExactCoefficients() throws {
        // y = 1.5 − 2·x₁ + 0.25·x₂ exactly.
        let x = Matrix([[0, 1], [1, 0], [2, 3], [3, 5], [4, -1], [5, 2]])
        let y = (0..<6).map { 1.5 - 2 * x[$0, 0] + 0.25 * x[$0, 1] }
        let fit = try LinearFit(predictors: x, response: y)
        #expect(abs(fit.intercept - 1.5) < 1e-12)
        #expect(abs(fit.slopes[0] + 2) < 1e-12 && abs(fit.slopes[1] - 0.25) < 1e-12)
        #expect(abs(fit.rSquared - 1) < 1e-12)
    }

    /// y = (1, 3, 2, 5) on x = (0, 1, 2, 3): slope 5.5/5 = 1.1, intercept 2.75 − 1.65 = 1.1,
    /// R² = 1.1²·5 / 8.75 (hand computed).
    @Test func simpleRegressionByHand() throws {
        let fit = try LinearFit(x: [0, 1, 2, 3], y: [1, 3, 2, 5])
        #expect(abs(fit.slopes[0] - 1.1) < 1e-12 && abs(fit.intercept - 1.1) < 1e-12)
        #expect(abs(fit.rSquared - 6.05 / 8.75) < 1e-12)
    }

    @Test func rankDeficientDesignThrows() {
        let x = Matrix([[1, 2], [2, 4], [3, 6]])
        #expect(throws: LinearAlgebraError.self) { try LinearFit(predictors: x, response: [1, 2, 3]) }
    }

    @Test func haarOrthogonalIsOrthogonalAndDeterministic() throws {
        var a = PCG64(seed: 17), b = PCG64(seed: 17), c = PCG64(seed: 18)
        let q = try Matrix.randomOrthogonal(dimension: 50, using: &a)
        #expect(Self.maxAbsDifference(Matrix.product(q, q, transposeLeft: true), .identity(50)) < 1e-13)
        #expect(Self.maxAbsDifference(Matrix.product(q, q, transposeRight: true), .identity(50)) < 1e-13)
        #expect(try Matrix.randomOrthogonal(dimension: 50, using: &b) == q)
        #expect(try Matrix.randomOrthogonal(dimension: 50, using: &c) != q)
    }

    /// With the sign fix, Q is Haar: E[Q₁₁] = 0 and E[Q₁₁²] = 1/n. Without it, diagonal entries skew positive.
    @Test func haarOrthogonalDiagonalIsUnbiased() throws {
        var rng = PCG64(seed: 4)
        var sum = 0.0, sumSquares = 0.0
        let trials = 2000, n = 4
        for _ in 0..<trials {
            let q = try Matrix.randomOrthogonal(dimension: n, using: &rng)
            sum += q[0, 0]
            sumSquares += q[0, 0] * q[0, 0]
        }
        #expect(abs(sum / Double(trials)) < 0.04)
        #expect(abs(sumSquares / Double(trials) - 1 / Double(n)) < 0.02)
    }
}
