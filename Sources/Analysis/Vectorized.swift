// Four-lane arithmetic-only elementary functions: the single implementation behind the scalar
// `portableLog(_:)` (PCG64.swift) and `negativeExp(_:)` (MutualInformation.swift), which take
// one lane. The lanes buy instruction-level parallelism in the hot loops (Gaussian fill, KDE).

/// Lane-wise ``portableLog(_:)``.
@inline(__always)
func portableLog(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self)
    let exponentField = (bits &>> 52) & 0x7ff
    let mantissaBits = (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000
    var mantissa = unsafeBitCast(mantissaBits, to: SIMD4<Double>.self)
    let large = mantissa .> 1.4142135623730951
    mantissa = mantissa.replacing(with: mantissa * 0.5, where: large)
    var e = SIMD4<Double>(SIMD4<Int64>(truncatingIfNeeded: exponentField) &- 1023)
    e = e.replacing(with: e + 1, where: large)
    let f = mantissa - 1
    let halfSquare = 0.5 * f * f
    let s = f / (2 + f)
    let z = s * s
    var r = SIMD4<Double>(repeating: 2.0 / 25)
    r = 2.0 / 23 + z * r
    r = 2.0 / 21 + z * r
    r = 2.0 / 19 + z * r
    r = 2.0 / 17 + z * r
    r = 2.0 / 15 + z * r
    r = 2.0 / 13 + z * r
    r = 2.0 / 11 + z * r
    r = 2.0 / 9 + z * r
    r = 2.0 / 7 + z * r
    r = 2.0 / 5 + z * r
    r = 2.0 / 3 + z * r
    r *= z
    let logMantissa = f - (halfSquare - s * (halfSquare + r))
    return e * 6.93147180369123816490e-01 + (logMantissa + e * 1.90821492927058770002e-10)
}

/// Lane-wise ``negativeExp(_:)``.
@inline(__always)
func negativeExp(_ t: SIMD4<Double>) -> SIMD4<Double> {
    let underflow = t .< -708
    let clamped = t.replacing(with: -708, where: underflow)
    let shifter = 6755399441055744.0
    let shifted = clamped * 1.4426950408889634 + shifter
    let k = shifted - shifter
    let r = (clamped - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    var p = SIMD4<Double>(repeating: 1.0 / 6227020800)
    p = 1.0 / 479001600 + r * p
    p = 1.0 / 39916800 + r * p
    p = 1.0 / 3628800 + r * p
    p = 1.0 / 362880 + r * p
    p = 1.0 / 40320 + r * p
    p = 1.0 / 5040 + r * p
    p = 1.0 / 720 + r * p
    p = 1.0 / 120 + r * p
    p = 1.0 / 24 + r * p
    p = 1.0 / 6 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    let scaleBits = (unsafeBitCast(shifted, to: SIMD4<UInt64>.self) &+ 1023) &<< 52
    return (p * unsafeBitCast(scaleBits, to: SIMD4<Double>.self)).replacing(with: 0, where: underflow)
}
