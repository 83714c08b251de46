/// Per-unit Pearson correlations recomputed for every bootstrap replicate from weighted moments,
/// so a thousand replicates cost a handful of GEMMs rather than a thousand passes over the data.
///
/// A replicate with mean weights w (``Bootstrap/meanWeights()``) has, per column, the weighted
/// mean m = Σ w_n x_n and moments Σ w_n x_n y_n; the replicate's correlation is
/// (E_w[xy] − E_w[x]E_w[y]) / √((E_w[x²] − E_w[x]²)(E_w[y²] − E_w[y]²)). Columns are centred on
/// their full-sample means first, which leaves every correlation unchanged and keeps the
/// differences of moments from cancelling catastrophically.
public struct ResampledColumns: Sendable {
    /// The centred data `[N × D]`.
    public let centred: Matrix
    /// E_w[x] per replicate and column, `[B × D]`.
    public let mean: Matrix
    /// E_w[x²] per replicate and column, `[B × D]`.
    public let meanSquare: Matrix

    /// The replicate moments of the columns of `x` under `weights` (`[B × N]`).
    public init(_ x: Matrix, weights: Matrix) {
        var centred = x
        let n = x.rows, d = x.columns
        var columnMean = [Double](repeating: 0, count: d)
        centred.withUnsafeMutableStorage { c in
            for r in 0..<n { for j in 0..<d { columnMean[j] += c[r * d + j] } }
            for j in 0..<d { columnMean[j] /= Double(n) }
            for r in 0..<n { for j in 0..<d { c[r * d + j] -= columnMean[j] } }
        }
        var squares = centred
        squares.withUnsafeMutableStorage { s in for i in s.indices { s[i] *= s[i] } }
        self.centred = centred
        mean = Matrix.product(weights, centred)
        meanSquare = Matrix.product(weights, squares)
    }

    private init(centred: Matrix, mean: Matrix, meanSquare: Matrix) {
        self.centred = centred
        self.mean = mean
        self.meanSquare = meanSquare
    }

    /// The moments of the same data with its columns reordered (`indices[j]` is the new column j's
    /// source): no GEMM, since reordering columns commutes with the weighted sums over rows.
    public func columns(at indices: [Int]) -> ResampledColumns {
        ResampledColumns(centred: centred.columns(at: indices), mean: mean.columns(at: indices), meanSquare: meanSquare.columns(at: indices))
    }

    /// `[B × D]`: the correlation of column j of `x` with column j of `y` in every replicate; NaN
    /// where either column's replicate standard deviation is below `degenerateSD`.
    public static func correlations(_ x: ResampledColumns, _ y: ResampledColumns, weights: Matrix,
                                    degenerateSD: Double = Statistics.degenerateSD) -> Matrix {
        precondition(x.centred.rows == y.centred.rows && x.centred.columns == y.centred.columns,
                     "ResampledColumns.correlations: shapes differ")
        var products = x.centred
        products.withUnsafeMutableStorage { p in
            y.centred.storage.withUnsafeBufferPointer { ys in for i in p.indices { p[i] *= ys[i] } }
        }
        var r = Matrix.product(weights, products)
        let count = r.rows * r.columns
        let floor = degenerateSD * degenerateSD
        r.withUnsafeMutableStorage { out in
            x.mean.storage.withUnsafeBufferPointer { mx in
                x.meanSquare.storage.withUnsafeBufferPointer { sx in
                    y.mean.storage.withUnsafeBufferPointer { my in
                        y.meanSquare.storage.withUnsafeBufferPointer { sy in
                            for i in 0..<count {
                                let vx = sx[i] - mx[i] * mx[i], vy = sy[i] - my[i] * my[i]
                                out[i] = vx < floor || vy < floor ? .nan : (out[i] - mx[i] * my[i]) / (vx * vy).squareRoot()
                            }
                        }
                    }
                }
            }
        }
        return r
    }
}

extension Statistics {
    /// The median of the non-NaN values of `x` (NaN when none), by selection rather than a full sort.
    public static func medianIgnoringNaN(_ x: [Double]) -> Double {
        var scratch: [Double] = []
        return x.withUnsafeBufferPointer { medianIgnoringNaN($0, scratch: &scratch) }
    }

    /// The same over a slice (a row of a replicate matrix).
    public static func medianIgnoringNaN(_ x: ArraySlice<Double>) -> Double {
        var scratch: [Double] = []
        return x.withUnsafeBufferPointer { medianIgnoringNaN($0, scratch: &scratch) }
    }

    /// The median of the non-NaN values of `x`, using `scratch` as working space so that a loop
    /// over thousands of replicate rows allocates once. As ``quantile(_:_:)`` interpolates, so both
    /// give the same bits on the same values.
    public static func medianIgnoringNaN(_ x: UnsafeBufferPointer<Double>, transform: ((Double) -> Double)? = nil,
                                         scratch: inout [Double]) -> Double {
        scratch.removeAll(keepingCapacity: true)
        for value in x where !value.isNaN { scratch.append(transform.map { $0(value) } ?? value) }
        let n = scratch.count
        guard n > 0 else { return .nan }
        let upper = select(&scratch, n / 2)
        if n % 2 == 1 { return upper }
        // The lower middle is the largest value left of the selected one.
        var lower = -Double.infinity
        for i in 0..<(n / 2) where scratch[i] > lower { lower = scratch[i] }
        return lower + 0.5 * (upper - lower)
    }

    /// Hoare's quickselect with a median-of-three pivot: afterwards `values[k]` is the k-th smallest,
    /// everything before it is ≤ and everything after ≥.
    static func select(_ values: inout [Double], _ k: Int) -> Double {
        values.withUnsafeMutableBufferPointer { v in
            var low = 0, high = v.count - 1
            while low < high {
                let mid = low + (high - low) / 2
                if v[mid] < v[low] { v.swapAt(mid, low) }
                if v[high] < v[low] { v.swapAt(high, low) }
                if v[high] < v[mid] { v.swapAt(high, mid) }
                let pivot = v[mid]
                var i = low, j = high
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
                }
                if k <= j { high = j } else if k >= i { low = i } else { return v[k] }
            }
            return v[k]
        }
    }
}
