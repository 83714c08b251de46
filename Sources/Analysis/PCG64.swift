/// A portable, seeded random number generator: PCG64 (PCG-XSL-RR 128/64), as in numpy's `PCG64`.
///
/// Specification, so any implementation reproduces the streams bit for bit:
/// - **State:** a 128-bit LCG state `s` and an odd 128-bit increment `c`, arithmetic mod 2¹²⁸,
///   multiplier `M = 0x2360ed051fc65da4_4385df649fccf645`.
/// - **Step then output:** `next()` first advances `s ← s·M + c`, then returns the XSL-RR output of
///   the *new* state: `x = hi64(s) xor lo64(s)`, rotated right by `hi64(s) >> 58`.
///   This is numpy's `PCG64.random_raw()` for the same (state, inc).
/// - **Seeding** (the PCG reference `srandom_r`, not numpy's SeedSequence): `c = (stream << 1) | 1`,
///   `s = 0`, step, `s += seed`, step — with `seed` and `stream` zero-extended to 128 bits.
/// - **`nextDouble()`:** `Double(next() >> 11) · 2⁻⁵³`, in [0, 1) (numpy's `random()` does the same).
/// - **`nextInt(below: n)`:** Lemire's multiply-shift with rejection: the high 64 bits of
///   `next() · n`, redrawing while the low 64 bits are below `2⁶⁴ mod n`. Exactly uniform.
/// - **Gaussians:** the polar (Marsaglia) form of Box–Muller. Draw `u = 2·nextDouble() − 1`,
///   `v = 2·nextDouble() − 1` (in that order), reject unless `0 < s = u² + v² < 1`, set
///   `f = sqrt(−2·ln(s)/s)`; return `u·f` now and cache `v·f` for the next call. The polar form
///   needs no sin/cos, and `ln` is computed by ``portableLog(_:)`` from +, −, ×, ÷ only, so the
///   normals are bit-identical on every IEEE-754 machine (libm's log/sin/cos are not).
///   `nextGaussian(mean:std:)` returns `mean + std·z`; the Float32 fill stores `Float(mean + std·z)`.
///   Any other draw (`next()`, `nextDouble()`, …) leaves the cached Gaussian in place.
/// Swift's own `shuffled(using:)` etc. accept this generator but their algorithms are not
/// specified; use the methods here when results must reproduce.
public struct PCG64: RandomNumberGenerator, Sendable, Equatable {
    static let multiplierHigh: UInt64 = 0x2360_ed05_1fc6_5da4
    static let multiplierLow: UInt64 = 0x4385_df64_9fcc_f645

    private(set) var stateHigh: UInt64
    private(set) var stateLow: UInt64
    private(set) var incrementHigh: UInt64
    private(set) var incrementLow: UInt64
    /// The second normal of the last polar pair, not yet returned.
    private var spareGaussian: Double?

    /// A generator seeded by the PCG reference procedure (see the type documentation).
    public init(seed: UInt64, stream: UInt64 = 0) {
        self.init(stateHigh: 0, stateLow: 0, incrementHigh: stream >> 63, incrementLow: (stream << 1) | 1)
        step()
        let (low, carry) = stateLow.addingReportingOverflow(seed)
        stateLow = low
        stateHigh &+= carry ? 1 : 0
        step()
    }

    /// A generator at a raw (state, increment); the increment must be odd. For cross-checks with numpy.
    init(stateHigh: UInt64, stateLow: UInt64, incrementHigh: UInt64, incrementLow: UInt64) {
        precondition(incrementLow & 1 == 1, "PCG64: the increment must be odd")
        self.stateHigh = stateHigh
        self.stateLow = stateLow
        self.incrementHigh = incrementHigh
        self.incrementLow = incrementLow
        self.spareGaussian = nil
    }

    @inline(__always)
    private mutating func step() {
        let (productHigh, productLow) = stateLow.multipliedFullWidth(by: Self.multiplierLow)
        let high = productHigh &+ stateHigh &* Self.multiplierLow &+ stateLow &* Self.multiplierHigh
        let (low, carry) = productLow.addingReportingOverflow(incrementLow)
        stateLow = low
        stateHigh = high &+ incrementHigh &+ (carry ? 1 : 0)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        step()
        let folded = stateHigh ^ stateLow
        let rotation = stateHigh >> 58
        return (folded >> rotation) | (folded << ((64 &- rotation) & 63))
    }

    /// A uniform double in [0, 1) from the top 53 bits of `next()`.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        // Through Int64 (exact: 53 bits) because signed conversion is one instruction on x86-64.
        Double(Int64(bitPattern: next() >> 11)) * 0x1.0p-53
    }

    /// A uniform integer in 0..<n (Lemire's method; exactly uniform).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "PCG64.nextInt(below:): bound must be positive, got \(n)")
        let bound = UInt64(n)
        var (high, low) = next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold { (high, low) = next().multipliedFullWidth(by: bound) }
        }
        return Int(high)
    }

    /// A standard normal from the polar Box–Muller pair (second value cached).
    @inline(__always)
    mutating func nextStandardGaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        while true {
            let u = 2 * nextDouble() - 1
            let v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let factor = (-2 * portableLog(s) / s).squareRoot()
            spareGaussian = v * factor
            return u * factor
        }
    }

    /// A normal draw with the given mean and standard deviation.
    public mutating func nextGaussian(mean: Double = 0, std: Double = 1) -> Double {
        mean + std * nextStandardGaussian()
    }

    /// Fills `buffer` with `Float(mean + std·z)`, z standard normal: the same values, in order,
    /// as calling `nextGaussian(mean:std:)` once per element (fast path for random-init weights).
    public mutating func fillGaussian(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Double = 0, std: Double) {
        guard var index = buffer.indices.first else { return }
        let end = buffer.endIndex
        if let spare = spareGaussian {
            spareGaussian = nil
            buffer[index] = Float(mean + std * spare)
            index += 1
        }
        // Accepted polar candidates are collected eight at a time and finished in two SIMD4 passes
        // (bit-identical per lane). Never more candidates than the remaining outputs need are drawn,
        // so the generator ends in exactly the state of the element-by-element loop.
        // A local copy keeps the 128-bit state in registers (stores to `buffer` could alias `self`).
        var generator = self
        defer { self = generator }
        // Scratch rows u[0..<8], v[8..<16], s[16..<24]; dynamic SIMD lane access is slow, memory is not.
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 24)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0.5, count: 24)
        let raw = UnsafeMutableRawPointer(scratch)
        while index < end {
            let wanted = Swift.min(8, (end - index + 1) / 2)
            var accepted = 0
            while accepted < wanted {
                let u = 2 * generator.nextDouble() - 1
                let v = 2 * generator.nextDouble() - 1
                let s = u * u + v * v
                // Branch-free compaction: a rejected candidate is overwritten by the next one.
                scratch[accepted] = u
                scratch[8 + accepted] = v
                scratch[16 + accepted] = s
                accepted &+= (s < 1 && s != 0) ? 1 : 0
            }
            let low = raw.loadUnaligned(fromByteOffset: 128, as: SIMD4<Double>.self)
            let high = raw.loadUnaligned(fromByteOffset: 160, as: SIMD4<Double>.self)
            raw.storeBytes(of: (-2 * portableLog(low) / low).squareRoot(), toByteOffset: 128, as: SIMD4<Double>.self)
            raw.storeBytes(of: (-2 * portableLog(high) / high).squareRoot(), toByteOffset: 160, as: SIMD4<Double>.self)
            for lane in 0..<accepted {
                let factor = scratch[16 + lane]
                buffer[index] = Float(mean + std * (scratch[lane] * factor))
                index += 1
                if index < end {
                    buffer[index] = Float(mean + std * (scratch[8 + lane] * factor))
                    index += 1
                } else {
                    generator.spareGaussian = scratch[8 + lane] * factor
                }
            }
            // Unused lanes must stay valid inputs for the next batch's log.
            for lane in accepted..<8 { scratch[16 + lane] = 0.5 }
        }
    }

    /// Fills an array with `Float(mean + std·z)`, with the same values as the buffer version.
    public mutating func fillGaussian(_ array: inout [Float], mean: Double = 0, std: Double) {
        array.withUnsafeMutableBufferPointer { fillGaussian($0, mean: mean, std: std) }
    }

    /// Shuffles `array` in place: Fisher–Yates from the last index down, `j = nextInt(below: i + 1)`.
    public mutating func shuffle<Element>(_ array: inout [Element]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }

    /// A uniformly random permutation of 0..<n (a shuffled identity).
    public mutating func permutation(_ n: Int) -> [Int] {
        var indices = Array(0..<n)
        shuffle(&indices)
        return indices
    }

    /// A uniformly random derangement of 0..<n (no i maps to itself), by rejecting permutations
    /// with a fixed point (about e ≈ 2.7 tries). Needs n ≥ 2.
    public mutating func derangement(_ n: Int) -> [Int] {
        precondition(n >= 2, "PCG64.derangement: needs n ≥ 2, got \(n)")
        while true {
            let candidate = permutation(n)
            if candidate.indices.allSatisfy({ candidate[$0] != $0 }) { return candidate }
        }
    }

    /// `count` distinct indices from 0..<n, in draw order (partial Fisher–Yates from the front:
    /// position i swaps with `i + nextInt(below: n − i)`).
    public mutating func sample(_ count: Int, from n: Int) -> [Int] {
        precondition(count >= 0 && count <= n, "PCG64.sample: cannot draw \(count) of \(n) without replacement")
        var indices = Array(0..<n)
        for i in 0..<count {
            indices.swapAt(i, i + nextInt(below: n - i))
        }
        return Array(indices.prefix(count))
    }
}

/// The natural logarithm of a positive finite normal double from +, −, ×, ÷ only, so it is
/// bit-identical on every IEEE-754 machine. Accurate to about 1 ulp.
///
/// x = 2ᵉ·m with m in [√½, √2); ln(m) = ln(1+f) with s = f/(2+f), using
/// ln(1+f) = f − (f²/2 − s·(f²/2 + R)), R = Σₖ₌₁¹¹ 2z^k/(2k+1), z = s² ≤ 0.0295 (Taylor of 2·atanh).
@inline(__always)
func portableLog(_ x: Double) -> Double {
    // One lane of the four-lane version (Vectorized.swift), which performs exactly these operations.
    portableLog(SIMD4<Double>(repeating: x))[0]
}
