import Foundation

/// Mutual-information estimators between two scalar series (TD-4), in nats.
public enum MutualInformation {
    /// The leave-one-out Gaussian-KDE estimate Î = (1/N) Σₙ ln[p̂_xy(xₙ,yₙ) / (p̂_x(xₙ)·p̂_y(yₙ))].
    ///
    /// x and y are standardized first (mean 0, sample SD 1). Bandwidths follow Scott's rule in SD
    /// units: h₁ = N^(−1/5) for the marginals, h₂ = N^(−1/6) per axis for the product-kernel joint.
    /// Each density at sample n sums the kernels of the other N − 1 samples. NaN if either series
    /// has SD below ``Statistics/degenerateSD`` or N < 3. Cost O(N²), no allocation in the inner loop.
    public static func kernelDensity(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "MutualInformation.kernelDensity: lengths differ (\(x.count) vs \(y.count))")
        let n = x.count
        guard n >= 3, let xs = standardized(x), let ys = standardized(y) else { return .nan }
        let h1 = pow(Double(n), -1.0 / 5), h2 = pow(Double(n), -1.0 / 6)
        let a1 = -0.5 / (h1 * h1), a2 = -0.5 / (h2 * h2)
        var total = 0.0
        xs.withUnsafeBufferPointer { px in
            ys.withUnsafeBufferPointer { py in
                for i in 0..<n {
                    let xi = px[i], yi = py[i]
                    var sums = KernelSums()
                    // Two ranges around i skip the self term; each runs four lanes at a time.
                    sums.add(px, py, xi, yi, 0..<i, a1, a2)
                    sums.add(px, py, xi, yi, (i + 1)..<n, a1, a2)
                    let (sx, sy, sxy) = sums.totals
                    // An isolated point (heavy tail) can underflow every kernel; redo it in log space.
                    let tiny = 1e-250
                    let lx = sx > tiny ? log(sx) : logKernelSum(px, py, i, a1, 0)
                    let ly = sy > tiny ? log(sy) : logKernelSum(px, py, i, 0, a1)
                    let lxy = sxy > tiny ? log(sxy) : logKernelSum(px, py, i, a2, a2)
                    total += lxy - lx - ly
                }
            }
        }
        // p̂_xy/(p̂_x p̂_y) = S_xy·(N−1)·h₁² / (S_x·S_y·h₂²): the 2π and one (N−1) cancel.
        return total / Double(n) + log(Double(n - 1) * h1 * h1 / (h2 * h2))
    }

    /// The Gaussian-copula estimate −½·ln(1 − ρ²), ρ the Pearson correlation of the normal scores
    /// Φ⁻¹(rank/(N+1)) (average ranks for ties). Invariant to monotone transforms; exact for
    /// bivariate normals up to sampling error. NaN for constant input.
    public static func gaussianCopula(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "MutualInformation.gaussianCopula: lengths differ (\(x.count) vs \(y.count))")
        let scale = Double(x.count + 1)
        let sx = Statistics.ranks(x).map { inverseNormalCDF($0 / scale) }
        let sy = Statistics.ranks(y).map { inverseNormalCDF($0 / scale) }
        let rho = Statistics.pearson(sx, sy)
        return -0.5 * log(1 - rho * rho)
    }

    /// Running kernel sums for one sample: four SIMD lanes plus a scalar tail.
    private struct KernelSums {
        var x = SIMD4<Double>(), y = SIMD4<Double>(), xy = SIMD4<Double>()
        var tailX = 0.0, tailY = 0.0, tailXY = 0.0

        @inline(__always)
        mutating func add(_ px: UnsafeBufferPointer<Double>, _ py: UnsafeBufferPointer<Double>,
                          _ xi: Double, _ yi: Double, _ range: Range<Int>, _ a1: Double, _ a2: Double) {
            var j = range.lowerBound
            let rawX = UnsafeRawPointer(px.baseAddress!), rawY = UnsafeRawPointer(py.baseAddress!)
            let stride = MemoryLayout<Double>.stride
            while j + 4 <= range.upperBound {
                let dx = xi - rawX.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Double>.self)
                let dy = yi - rawY.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Double>.self)
                let dx2 = dx * dx, dy2 = dy * dy
                x += negativeExp(a1 * dx2)
                y += negativeExp(a1 * dy2)
                xy += negativeExp(a2 * (dx2 + dy2))
                j += 4
            }
            while j < range.upperBound {
                let dx = xi - px[j], dy = yi - py[j]
                let dx2 = dx * dx, dy2 = dy * dy
                tailX += negativeExp(a1 * dx2)
                tailY += negativeExp(a1 * dy2)
                tailXY += negativeExp(a2 * (dx2 + dy2))
                j += 1
            }
        }

        var totals: (Double, Double, Double) {
            // Fixed summation order (SIMD `sum()` leaves it unspecified).
            func total(_ v: SIMD4<Double>) -> Double { ((v[0] + v[1]) + (v[2] + v[3])) }
            return (total(x) + tailX, total(y) + tailY, total(xy) + tailXY)
        }
    }

    private static func standardized(_ v: [Double]) -> [Double]? {
        let m = Statistics.mean(v), sd = Statistics.standardDeviation(v)
        guard sd >= Statistics.degenerateSD else { return nil }
        return v.map { ($0 - m) / sd }
    }

    /// ln Σ_{j≠i} exp(ax·(xᵢ−xⱼ)² + ay·(yᵢ−yⱼ)²), shifted by the maximum exponent.
    private static func logKernelSum(_ px: UnsafeBufferPointer<Double>, _ py: UnsafeBufferPointer<Double>,
                                     _ i: Int, _ ax: Double, _ ay: Double) -> Double {
        func exponent(_ j: Int) -> Double {
            let dx = px[i] - px[j], dy = py[i] - py[j]
            return ax * dx * dx + ay * dy * dy
        }
        var top = -Double.infinity
        for j in px.indices where j != i { top = Swift.max(top, exponent(j)) }
        var sum = 0.0
        for j in px.indices where j != i { sum += exp(exponent(j) - top) }
        return top + log(sum)
    }
}

/// exp(t) for t ≤ 0 without a libm call, so kernel loops vectorize. Relative error below 1e-15;
/// returns 0 below −708 (kernel sums that small are recomputed in log space by the caller).
///
/// t = k·ln2 + r with k = round(t/ln2) (by the 1.5·2⁵² trick) and |r| ≤ ln2/2; exp(r) by its
/// degree-13 Taylor polynomial; 2ᵏ assembled in the exponent bits.
@inline(__always)
func negativeExp(_ t: Double) -> Double {
    // One lane of the four-lane version (Vectorized.swift), which performs exactly these operations.
    negativeExp(SIMD4<Double>(repeating: t))[0]
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
/// refined by one Halley step on Φ(x) = ½·erfc(−x/√2), giving near full double precision.
public func inverseNormalCDF(_ p: Double) -> Double {
    precondition(p > 0 && p < 1, "inverseNormalCDF: p = \(p) outside (0, 1)")
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
             6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let pLow = 0.02425
    var x: Double
    if p < pLow || p > 1 - pLow {
        let q = (-2 * log(p < pLow ? p : 1 - p)).squareRoot()
        let num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        let den = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        x = p < pLow ? num / den : -num / den
    } else {
        let q = p - 0.5, r = q * q
        let num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        let den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
        x = num / den
    }
    let error = 0.5 * erfc(-x / 2.0.squareRoot()) - p
    let u = error * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}
