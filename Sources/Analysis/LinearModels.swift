/// An ordinary-least-squares fit y ≈ intercept + Σ slopes[j]·x[j].
public struct LinearFit: Sendable, Equatable {
    /// The fitted intercept.
    public var intercept: Double
    /// One slope per predictor column, in column order.
    public var slopes: [Double]
    /// The coefficient of determination 1 − SS_res/SS_tot (1 when y is constant and fitted exactly).
    public var rSquared: Double

    /// Fits y on the columns of `predictors` (one row per observation) plus an intercept, through dgels.
    public init(predictors: Matrix, response: [Double]) throws(LinearAlgebraError) {
        let n = predictors.rows, p = predictors.columns
        guard response.count == n else {
            throw .shapeMismatch(routine: "LinearFit", detail: "\(response.count) responses for \(n) observations")
        }
        var design = Matrix(rows: n, columns: p + 1, repeating: 1)
        for i in 0..<n {
            for j in 0..<p { design[i, j + 1] = predictors[i, j] }
        }
        let beta = try design.leastSquaresSolution(response)
        intercept = beta[0]
        slopes = Array(beta.dropFirst())
        let fitted = design.applied(to: beta)
        let meanY = response.reduce(0, +) / Double(n)
        var residualSum = 0.0, totalSum = 0.0
        for i in 0..<n {
            residualSum += (response[i] - fitted[i]) * (response[i] - fitted[i])
            totalSum += (response[i] - meanY) * (response[i] - meanY)
        }
        rSquared = totalSum > 0 ? 1 - residualSum / totalSum : (residualSum == 0 ? 1 : 0)
    }

    /// Fits y on a single predictor plus an intercept.
    public init(x: [Double], y: [Double]) throws(LinearAlgebraError) {
        try self.init(predictors: Matrix(rows: x.count, columns: 1, storage: x), response: y)
    }
}

extension Matrix {
    /// A Haar-distributed random orthogonal n×n matrix: Q of the QR factorization of an n×n
    /// standard-normal matrix, with each column j multiplied by sign(R_jj) so that diag(R) > 0
    /// (without this fix Q is not Haar). The normals are drawn with `rng.nextGaussian()` and fill
    /// the column-major buffer handed to LAPACK in order (i.e. the Gaussian matrix column by column).
    public static func randomOrthogonal(dimension n: Int, using rng: inout PCG64) throws(LinearAlgebraError) -> Matrix {
        precondition(n > 0, "Matrix.randomOrthogonal: dimension must be positive, got \(n)")
        let gaussian = (0..<(n * n)).map { _ in rng.nextGaussian() }
        var (q, rDiagonal) = try BLAS.householderQ(columnMajor: gaussian, order: n)
        for j in 0..<n where rDiagonal[j] < 0 {
            for i in 0..<n { q[j * n + i] = -q[j * n + i] }
        }
        // The column-major buffer read row-major is Qᵀ.
        return Matrix(rows: n, columns: n, storage: q).transposed()
    }
}
