import Foundation

extension MutualInformation {
    /// One series prepared once for many leave-one-out Gaussian-KDE mutual-information estimates
    /// against other series of the same length (TD-4 pairs each layer with the next, so every
    /// layer's series takes part in two estimates, plus a shuffled null).
    ///
    /// Same estimator as ``MutualInformation/kernelDensity(_:_:)`` (standardized values, Scott
    /// bandwidths h₁ = N^(−1/5) and h₂ = N^(−1/6) in SD units, leave-one-out sums). The joint
    /// kernel is a product kernel with one bandwidth on both axes, so
    /// exp(a₂(Δx² + Δy²)) = exp(a₂Δx²)·exp(a₂Δy²): the joint sum at sample i is the dot product
    /// of row i of the two series' joint-bandwidth kernel matrices. Preparing a series costs 2N²
    /// exponentials and N² doubles of memory; an estimate between two prepared series costs only
    /// N² multiply-adds. Results agree with `kernelDensity(_:_:)` to rounding (≈1e-12).
    public struct KernelDensitySeries: Sendable {
        /// The number of samples N.
        public let count: Int
        /// The series standardized to mean 0 and sample SD 1.
        let values: [Double]
        /// ln Σ_{j≠i} exp(a₁(xᵢ − xⱼ)²) per sample (the unnormalized leave-one-out marginal).
        let logMarginal: [Double]
        /// exp(a₂(xᵢ − xⱼ)²) in row-major N×N order, with a zero diagonal (leave-one-out).
        let jointKernel: [Double]

        /// Prepares `x`; nil if N < 3 or its SD is below ``Statistics/degenerateSD`` (as
        /// `kernelDensity(_:_:)` returns NaN there).
        public init?(_ x: [Double]) {
            let n = x.count
            let m = Statistics.mean(x), sd = Statistics.standardDeviation(x)
            guard n >= 3, sd >= Statistics.degenerateSD else { return nil }
            let values = x.map { ($0 - m) / sd }
            let (a1, a2) = MutualInformation.kernelExponents(n)
            var logMarginal = [Double](repeating: 0, count: n)
            var kernel = [Double](repeating: 0, count: n * n)
            var squared = [Double](repeating: 0, count: n)
            values.withUnsafeBufferPointer { v in
                kernel.withUnsafeMutableBufferPointer { k in
                    squared.withUnsafeMutableBufferPointer { d2 in
                        for i in 0..<n {
                            for j in 0..<n { d2[j] = (v[i] - v[j]) * (v[i] - v[j]) }
                            // An infinite distance gives a zero kernel: the self term drops out exactly.
                            d2[i] = .infinity
                            var marginal = SIMD4<Double>()
                            var tail = 0.0
                            var j = 0
                            let raw = UnsafeMutableRawPointer(d2.baseAddress!)
                            let row = UnsafeMutableRawPointer(k.baseAddress! + i * n)
                            let stride = MemoryLayout<Double>.stride
                            while j + 4 <= n {
                                let d = raw.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Double>.self)
                                marginal += negativeExp(a1 * d)
                                row.storeBytes(of: negativeExp(a2 * d), toByteOffset: j * stride, as: SIMD4<Double>.self)
                                j += 4
                            }
                            while j < n {
                                tail += negativeExp(a1 * d2[j])
                                k[i * n + j] = negativeExp(a2 * d2[j])
                                j += 1
                            }
                            let sum = ((marginal[0] + marginal[1]) + (marginal[2] + marginal[3])) + tail
                            // An isolated point (heavy tail) can underflow every kernel; redo it in log space.
                            logMarginal[i] = sum > MutualInformation.underflowFloor
                                ? log(sum) : MutualInformation.logKernelSum(i, v, nil, a1)
                        }
                    }
                }
            }
            self.count = n
            self.values = values
            self.logMarginal = logMarginal
            self.jointKernel = kernel
        }
    }

    /// The leave-one-out Gaussian-KDE estimate between two prepared series, in nats; identical in
    /// definition to ``kernelDensity(_:_:)``. With `pairing` π, sample n of x is paired with sample
    /// π(n) of y (a permutation of 0..<N; a shuffled pairing is the independence null).
    public static func kernelDensity(_ x: KernelDensitySeries, _ y: KernelDensitySeries, pairing: [Int]? = nil) -> Double {
        let (terms, constant) = kernelDensityTerms(x, y, pairing: pairing)
        var total = 0.0
        for term in terms { total += term }
        return total / Double(terms.count) + constant
    }

    /// The estimate's pointwise terms ln[p̂_xy(xₙ, y_π(n)) / (p̂_x(xₙ)·p̂_y(y_π(n)))] (without the
    /// constant of the kernels' normalizations) and that constant: Î = mean(terms) + constant.
    /// A bootstrap of the terms with the densities held fixed gives TD-4 its interval.
    public static func kernelDensityTerms(_ x: KernelDensitySeries, _ y: KernelDensitySeries,
                                          pairing: [Int]? = nil) -> (terms: [Double], constant: Double) {
        let n = x.count
        precondition(y.count == n, "MutualInformation.kernelDensity: lengths differ (\(n) vs \(y.count))")
        precondition(pairing.map { $0.count == n } ?? true, "MutualInformation.kernelDensity: pairing has \(pairing?.count ?? 0) entries for \(n) samples")
        let a2 = kernelExponents(n).joint
        var terms = [Double](repeating: 0, count: n)
        x.jointKernel.withUnsafeBufferPointer { kx in
            y.jointKernel.withUnsafeBufferPointer { ky in
                for i in 0..<n {
                    let joint: Double
                    let yi: Int
                    if let pairing {
                        yi = pairing[i]
                        var sum = 0.0
                        for j in 0..<n { sum += kx[i * n + j] * ky[yi * n + pairing[j]] }
                        joint = sum
                    } else {
                        yi = i
                        joint = dot(kx.baseAddress! + i * n, ky.baseAddress! + i * n, n)
                    }
                    let logJoint = joint > underflowFloor
                        ? log(joint)
                        : x.values.withUnsafeBufferPointer { vx in
                            y.values.withUnsafeBufferPointer { vy in
                                logKernelSum(i, vx, (vy, pairing), a2)
                            }
                        }
                    terms[i] = logJoint - x.logMarginal[i] - y.logMarginal[yi]
                }
            }
        }
        let h1 = pow(Double(n), -1.0 / 5), h2 = pow(Double(n), -1.0 / 6)
        // p̂_xy/(p̂_x p̂_y) = S_xy·(N−1)·h₁² / (S_x·S_y·h₂²): the 2π and one (N−1) cancel.
        return (terms, log(Double(n - 1) * h1 * h1 / (h2 * h2)))
    }

    /// Kernel sums below this are recomputed in log space.
    static let underflowFloor = 1e-250

    /// The Gaussian-kernel exponents −1/(2h²) for the Scott bandwidths of N samples (marginal, joint).
    static func kernelExponents(_ n: Int) -> (marginal: Double, joint: Double) {
        let h1 = pow(Double(n), -1.0 / 5), h2 = pow(Double(n), -1.0 / 6)
        return (-0.5 / (h1 * h1), -0.5 / (h2 * h2))
    }

    /// Σ a[j]·b[j] in four fixed lanes plus a tail (a fixed summation order).
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var lanes = SIMD4<Double>()
        var tail = 0.0
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        let stride = MemoryLayout<Double>.stride
        while j + 4 <= n {
            lanes += ra.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Double>.self)
                * rb.loadUnaligned(fromByteOffset: j * stride, as: SIMD4<Double>.self)
            j += 4
        }
        while j < n {
            tail += a[j] * b[j]
            j += 1
        }
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + tail
    }

    /// ln Σ_{j≠i} exp(a·((xᵢ − xⱼ)² + (y_π(i) − y_π(j))²)), shifted by the largest exponent; with
    /// no y, the one-dimensional sum over x.
    private static func logKernelSum(_ i: Int, _ x: UnsafeBufferPointer<Double>,
                                     _ y: (values: UnsafeBufferPointer<Double>, pairing: [Int]?)?, _ a: Double) -> Double {
        func exponent(_ j: Int) -> Double {
            let dx = x[i] - x[j]
            guard let y else { return a * dx * dx }
            let dy = y.pairing.map { y.values[$0[i]] - y.values[$0[j]] } ?? (y.values[i] - y.values[j])
            return a * (dx * dx + dy * dy)
        }
        var top = -Double.infinity
        for j in x.indices where j != i { top = Swift.max(top, exponent(j)) }
        var sum = 0.0
        for j in x.indices where j != i { sum += exp(exponent(j) - top) }
        return top + log(sum)
    }
}
