/// A dense row-major matrix of `Double`s.
///
/// Element (r, c) lives at `storage[r * columns + c]`. A value type: copies are cheap
/// until written (copy-on-write through the backing array).
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// The elements in row-major order; `storage.count == rows * columns`.
    public private(set) var storage: [Double]

    /// A matrix over existing row-major storage.
    public init(rows: Int, columns: Int, storage: [Double]) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows)×\(columns)")
        precondition(storage.count == rows * columns,
                     "Matrix: storage has \(storage.count) elements, shape \(rows)×\(columns) needs \(rows * columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix with every element equal to `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, storage: Array(repeating: value, count: rows * columns))
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "Matrix: rows have different lengths")
        self.init(rows: rowArrays.count, columns: columns, storage: rowArrays.flatMap { $0 })
    }

    /// A matrix widened from row-major `Float` storage (e.g. engine activations).
    public init(rows: Int, columns: Int, float32 values: UnsafeBufferPointer<Float>) {
        precondition(values.count == rows * columns,
                     "Matrix: Float32 buffer has \(values.count) elements, shape \(rows)×\(columns) needs \(rows * columns)")
        self.init(rows: rows, columns: columns, storage: values.map { Double($0) })
    }

    /// A matrix widened from a row-major `[Float]`.
    public init(rows: Int, columns: Int, float32 values: [Float]) {
        self = values.withUnsafeBufferPointer { Matrix(rows: rows, columns: columns, float32: $0) }
    }

    /// The n×n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// Element at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Double {
        get {
            precondition(r >= 0 && r < rows && c >= 0 && c < columns, "Matrix: index (\(r), \(c)) outside \(rows)×\(columns)")
            return storage[r * columns + c]
        }
        set {
            precondition(r >= 0 && r < rows && c >= 0 && c < columns, "Matrix: index (\(r), \(c)) outside \(rows)×\(columns)")
            storage[r * columns + c] = newValue
        }
    }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Double] {
        precondition(r >= 0 && r < rows, "Matrix: row \(r) outside 0..<\(rows)")
        return Array(storage[(r * columns)..<((r + 1) * columns)])
    }

    /// Column `c` as an array.
    public func column(_ c: Int) -> [Double] {
        precondition(c >= 0 && c < columns, "Matrix: column \(c) outside 0..<\(columns)")
        return (0..<rows).map { storage[$0 * columns + c] }
    }

    /// The rows at `indices`, in that order (used for folds and subsets of samples).
    public func rows(at indices: some Sequence<Int>) -> Matrix {
        var out: [Double] = []
        var count = 0
        for r in indices {
            precondition(r >= 0 && r < rows, "Matrix: row \(r) outside 0..<\(rows)")
            out.append(contentsOf: storage[(r * columns)..<((r + 1) * columns)])
            count += 1
        }
        return Matrix(rows: count, columns: columns, storage: out)
    }

    /// The columns at `indices`, in that order (e.g. the leading k singular vectors).
    public func columns(at indices: some Sequence<Int>) -> Matrix {
        let picked = Array(indices)
        precondition(picked.allSatisfy { $0 >= 0 && $0 < columns }, "Matrix: column index outside 0..<\(columns)")
        var out = [Double](repeating: 0, count: rows * picked.count)
        for r in 0..<rows {
            for (k, c) in picked.enumerated() { out[r * picked.count + k] = storage[r * columns + c] }
        }
        return Matrix(rows: rows, columns: picked.count, storage: out)
    }

    /// The transpose.
    public func transposed() -> Matrix {
        var out = [Double](repeating: 0, count: storage.count)
        storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    for c in 0..<columns { dst[c * rows + r] = src[r * columns + c] }
                }
            }
        }
        return Matrix(rows: columns, columns: rows, storage: out)
    }

    /// Calls `body` with mutable access to the row-major storage (for bulk fills).
    public mutating func withUnsafeMutableStorage<R>(_ body: (inout UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// The matrix product `op(a) · op(b)` through BLAS dgemm, where `op` optionally transposes.
    public static func product(_ a: Matrix, _ b: Matrix, transposeLeft: Bool = false, transposeRight: Bool = false) -> Matrix {
        let (m, ka) = transposeLeft ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeRight ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(ka == kb, "Matrix.product: inner dimensions differ (\(ka) vs \(kb))")
        var out = [Double](repeating: 0, count: m * n)
        if m > 0, n > 0, ka > 0 {
            BLAS.gemm(a.storage, transposeA: transposeLeft, b.storage, transposeB: transposeRight,
                      m: m, n: n, k: ka, lda: a.columns, ldb: b.columns, into: &out)
        }
        return Matrix(rows: m, columns: n, storage: out)
    }

    /// The matrix product `a · b` through BLAS dgemm.
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        product(a, b)
    }

    /// The matrix–vector product `self · v`.
    public func applied(to v: [Double]) -> [Double] {
        precondition(v.count == columns, "Matrix.applied(to:): vector has \(v.count) elements, matrix has \(columns) columns")
        return Matrix.product(self, Matrix(rows: columns, columns: 1, storage: v)).storage
    }
}
