// The only file of Analysis that talks to OpenBLAS; everything else goes through these wrappers.
//
// Layout: `Matrix` is row-major, LAPACK is column-major. A row-major m×n buffer *is* the
// column-major n×m buffer of the transpose, so every wrapper factorizes the transpose
// and reads the factors back swapped instead of copying.
import COpenBLAS

/// Why a LAPACK-backed factorization failed.
public enum LinearAlgebraError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input holds NaN or ±Inf.
    case nonFiniteInput(routine: String, rows: Int, columns: Int)
    /// The shapes do not fit the routine.
    case shapeMismatch(routine: String, detail: String)
    /// LAPACK rejected argument number `argument` (`info < 0`): a bug in the wrapper.
    case invalidArgument(routine: String, argument: Int)
    /// The iteration did not converge (`info > 0` of dgesdd / dsyevd).
    case noConvergence(routine: String, info: Int)
    /// The least-squares design is rank deficient (`info > 0` of dgels).
    case rankDeficient(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .nonFiniteInput(routine, rows, columns):
            return "Analysis/LAPACK.swift: \(routine) got a \(rows)×\(columns) matrix containing NaN or Inf; "
                + "check the activations or statistics that built it."
        case let .shapeMismatch(routine, detail):
            return "Analysis/LAPACK.swift: \(routine): \(detail)."
        case let .invalidArgument(routine, argument):
            return "Analysis/LAPACK.swift: \(routine) rejected argument \(argument) (info -\(argument)); "
                + "this is a wrapper bug, report it with the matrix shape."
        case let .noConvergence(routine, info):
            return "Analysis/LAPACK.swift: \(routine) did not converge (info \(info)); "
                + "the matrix is badly scaled or degenerate, rescale it or drop constant rows/columns."
        case let .rankDeficient(routine, info):
            return "Analysis/LAPACK.swift: \(routine) found a rank-deficient design (zero pivot \(info)); "
                + "remove collinear or constant predictors."
        }
    }
}

/// A thin singular value decomposition A = U·diag(σ)·Vᵀ.
public struct SingularValueDecomposition: Sendable, Equatable {
    /// m×k left singular vectors as columns, k = min(m, n).
    public var u: Matrix
    /// The k singular values, descending.
    public var singularValues: [Double]
    /// k×n right singular vectors as rows.
    public var vt: Matrix
}

/// The eigendecomposition of a symmetric matrix A = V·diag(λ)·Vᵀ.
public struct SymmetricEigendecomposition: Sendable, Equatable {
    /// The eigenvalues, ascending.
    public var values: [Double]
    /// The orthonormal eigenvectors as columns; column j belongs to `values[j]`.
    public var vectors: Matrix
}

extension Matrix {
    /// The thin SVD through LAPACK dgesdd (divide and conquer, jobz = "S").
    public func singularValueDecomposition() throws(LinearAlgebraError) -> SingularValueDecomposition {
        let m = rows, n = columns, k = Swift.min(m, n)
        guard storage.allSatisfy(\.isFinite) else { throw .nonFiniteInput(routine: "dgesdd", rows: m, columns: n) }
        if k == 0 {
            return SingularValueDecomposition(u: Matrix(rows: m, columns: 0), singularValues: [],
                                              vt: Matrix(rows: 0, columns: n))
        }
        // LAPACK sees the column-major n×m matrix Aᵀ = U'ΣV'ᵀ, so A = V'ΣU'ᵀ:
        // our U (m×k row-major) is V'ᵀ's buffer and our Vᵀ (k×n row-major) is U''s buffer.
        var a = storage
        var sigma = [Double](repeating: 0, count: k)
        var uPrime = [Double](repeating: 0, count: n * k)
        var vtPrime = [Double](repeating: 0, count: k * m)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var lm = Int32(n), ln = Int32(m), lda = Int32(n), ldu = Int32(n), ldvt = Int32(k)
        var jobz = CChar(UInt8(ascii: "S"))
        var info: Int32 = 0
        var query = [Double](repeating: 0, count: 1)
        var lwork: Int32 = -1
        dgesdd_(&jobz, &lm, &ln, &a, &lda, &sigma, &uPrime, &ldu, &vtPrime, &ldvt, &query, &lwork, &iwork, &info)
        try check(info, "dgesdd")
        // Some LAPACK versions under-report the jobz = "S" workspace; add the documented minimum as slack.
        let minimum = 3 * k + Swift.max(Swift.max(m, n), 5 * k * k + 4 * k)
        lwork = Int32(Swift.max(Int(query[0].rounded(.up)), minimum))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesdd_(&jobz, &lm, &ln, &a, &lda, &sigma, &uPrime, &ldu, &vtPrime, &ldvt, &work, &lwork, &iwork, &info)
        try check(info, "dgesdd")
        return SingularValueDecomposition(u: Matrix(rows: m, columns: k, storage: vtPrime),
                                          singularValues: sigma,
                                          vt: Matrix(rows: k, columns: n, storage: uPrime))
    }

    /// The eigendecomposition of a symmetric matrix through LAPACK dsyevd.
    ///
    /// Only the lower triangle is read; asymmetry in the input is ignored, not checked.
    public func symmetricEigendecomposition() throws(LinearAlgebraError) -> SymmetricEigendecomposition {
        guard rows == columns else {
            throw .shapeMismatch(routine: "dsyevd", detail: "needs a square matrix, got \(rows)×\(columns)")
        }
        guard storage.allSatisfy(\.isFinite) else { throw .nonFiniteInput(routine: "dsyevd", rows: rows, columns: columns) }
        let n = rows
        if n == 0 { return SymmetricEigendecomposition(values: [], vectors: Matrix(rows: 0, columns: 0)) }
        // Row-major lower triangle = column-major upper triangle.
        var a = storage
        var w = [Double](repeating: 0, count: n)
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        var ln = Int32(n), lda = Int32(n), info: Int32 = 0
        var workQuery = [Double](repeating: 0, count: 1), iworkQuery = [Int32](repeating: 0, count: 1)
        var lwork: Int32 = -1, liwork: Int32 = -1
        dsyevd_(&jobz, &uplo, &ln, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        try check(info, "dsyevd")
        lwork = Int32(Swift.max(Int(workQuery[0].rounded(.up)), 1 + 6 * n + 2 * n * n))
        liwork = Swift.max(iworkQuery[0], Int32(3 + 5 * n))
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &ln, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        try check(info, "dsyevd")
        // Column-major eigenvectors-as-columns read row-major are eigenvectors-as-rows: transpose.
        return SymmetricEigendecomposition(values: w, vectors: Matrix(rows: n, columns: n, storage: a).transposed())
    }

    /// The least-squares solution x of min ‖A·x − b‖₂ through LAPACK dgels (QR; A must have full column rank).
    ///
    /// Throws ``LinearAlgebraError/rankDeficient(routine:info:)`` when a pivot of the triangular factor is
    /// at most max(m, n)·ε times the largest one.
    public func leastSquaresSolution(_ b: [Double]) throws(LinearAlgebraError) -> [Double] {
        let m = rows, n = columns
        guard b.count == m else {
            throw .shapeMismatch(routine: "dgels", detail: "right-hand side has \(b.count) entries, design has \(m) rows")
        }
        guard m >= n, n > 0 else {
            throw .shapeMismatch(routine: "dgels", detail: "needs at least as many rows as columns (> 0), got \(m)×\(n)")
        }
        guard storage.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
            throw .nonFiniteInput(routine: "dgels", rows: m, columns: n)
        }
        // LAPACK sees Aᵀ (n×m column-major); trans = "T" solves the overdetermined (Aᵀ)ᵀx = b.
        var a = storage
        var rhs = b
        var trans = CChar(UInt8(ascii: "T"))
        var lm = Int32(n), ln = Int32(m), nrhs: Int32 = 1, lda = Int32(n), ldb = Int32(m), info: Int32 = 0
        var query = [Double](repeating: 0, count: 1)
        var lwork: Int32 = -1
        dgels_(&trans, &lm, &ln, &nrhs, &a, &lda, &rhs, &ldb, &query, &lwork, &info)
        try check(info, "dgels")
        lwork = Int32(Swift.max(Int(query[0].rounded(.up)), 2 * m + 2 * n))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgels_(&trans, &lm, &ln, &nrhs, &a, &lda, &rhs, &ldb, &work, &lwork, &info)
        if info > 0 { throw .rankDeficient(routine: "dgels", info: Int(info)) }
        try check(info, "dgels")
        // dgels only flags exact zero pivots; rounding leaves ~ε-sized ones for collinear columns.
        // Either factorization (QR for m = n, LQ of Aᵀ for m > n) keeps its n pivots on the diagonal of `a`.
        let pivots = (0..<n).map { abs(a[$0 * n + $0]) }
        let tolerance = Double(Swift.max(m, n)) * Double.ulpOfOne * (pivots.max() ?? 0)
        if let weak = pivots.firstIndex(where: { $0 <= tolerance }) {
            throw .rankDeficient(routine: "dgels", info: weak + 1)
        }
        return Array(rhs.prefix(n))
    }
}

/// Maps a LAPACK `info` to a typed error.
private func check(_ info: Int32, _ routine: String) throws(LinearAlgebraError) {
    if info < 0 { throw .invalidArgument(routine: routine, argument: Int(-info)) }
    if info > 0 { throw .noConvergence(routine: routine, info: Int(info)) }
}

/// Internal BLAS / LAPACK entry points used by the rest of the module.
enum BLAS {
    /// C = op(A)·op(B) for row-major buffers; C (m×n) is overwritten.
    static func gemm(_ a: [Double], transposeA: Bool, _ b: [Double], transposeB: Bool,
                     m: Int, n: Int, k: Int, lda: Int, ldb: Int, into c: inout [Double]) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1.0, a, Int32(lda), b, Int32(ldb), 0.0, &c, Int32(n))
    }

    /// The orthogonal factor Q of a square column-major matrix A = QR (dgeqrf + dorgqr), with diag(R).
    static func householderQ(columnMajor a: [Double], order n: Int) throws(LinearAlgebraError) -> (q: [Double], rDiagonal: [Double]) {
        guard a.allSatisfy(\.isFinite) else { throw .nonFiniteInput(routine: "dgeqrf", rows: n, columns: n) }
        var a = a
        var tau = [Double](repeating: 0, count: n)
        var lm = Int32(n), ln = Int32(n), lk = Int32(n), lda = Int32(n), info: Int32 = 0
        var query = [Double](repeating: 0, count: 1)
        var lwork: Int32 = -1
        dgeqrf_(&lm, &ln, &a, &lda, &tau, &query, &lwork, &info)
        try check(info, "dgeqrf")
        lwork = Int32(Swift.max(Int(query[0].rounded(.up)), n))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgeqrf_(&lm, &ln, &a, &lda, &tau, &work, &lwork, &info)
        try check(info, "dgeqrf")
        let rDiagonal = (0..<n).map { a[$0 * n + $0] }
        lwork = -1
        dorgqr_(&lm, &ln, &lk, &a, &lda, &tau, &query, &lwork, &info)
        try check(info, "dorgqr")
        lwork = Int32(Swift.max(Int(query[0].rounded(.up)), n))
        work = [Double](repeating: 0, count: Int(lwork))
        dorgqr_(&lm, &ln, &lk, &a, &lda, &tau, &work, &lwork, &info)
        try check(info, "dorgqr")
        return (a, rDiagonal)
    }
}
