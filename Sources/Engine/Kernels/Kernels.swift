import Foundation

// Elementwise kernels over raw rows. Reductions accumulate in Float32 in a fixed order,
// so results are deterministic for a given build and thread count.

/// `out[r] = x[r] / sqrt(mean(x[r]²) + eps) · weight` for `rows` rows of `width`.
@inline(__always)
func rmsNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int,
             weight: UnsafePointer<Float>, epsilon: Float) {
    let vectorEnd = width & ~7
    for r in 0..<rows {
        let xr = x + r * width, o = out + r * width
        // Eight running sums in lanes, then the tail: a fixed order, so the result is deterministic.
        var lanes = SIMD8<Float>()
        var i = 0
        while i < vectorEnd {
            let v = load8(xr + i)
            lanes += v * v
            i += 8
        }
        var sum = lanes.sum()
        for j in vectorEnd..<width { sum += xr[j] * xr[j] }
        let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
        for j in 0..<width { o[j] = xr[j] * scale * weight[j] }
    }
}

/// `out[r] = (x[r] − mean) / sqrt(var + eps) · weight + bias` for `rows` rows of `width`
/// (mean and variance accumulated in Float64, so the centring loses nothing).
@inline(__always)
func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int,
               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float) {
    for r in 0..<rows {
        let xr = x + r * width, o = out + r * width
        var sum = 0.0
        for j in 0..<width { sum += Double(xr[j]) }
        let mean = sum / Double(width)
        var squares = 0.0
        for j in 0..<width {
            let centred = Double(xr[j]) - mean
            squares += centred * centred
        }
        let scale = Float(1 / (squares / Double(width) + Double(epsilon)).squareRoot())
        let m = Float(mean)
        for j in 0..<width { o[j] = (xr[j] - m) * scale * weight[j] + bias[j] }
    }
}

/// The family's norm (`norm.bias` is empty for an RMSNorm) of `rows` rows of `width`.
@inline(__always)
func applyNorm(_ kind: NormKind, _ norm: NormWeights, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
               rows: Int, width: Int, epsilon: Float) {
    norm.gain.withUnsafeBufferPointer { gain in
        switch kind {
        case .rms:
            rmsNorm(x, out, rows: rows, width: width, weight: gain.baseAddress!, epsilon: epsilon)
        case .layer:
            norm.bias.withUnsafeBufferPointer { bias in
                layerNorm(x, out, rows: rows, width: width, weight: gain.baseAddress!, bias: bias.baseAddress!, epsilon: epsilon)
            }
        }
    }
}

/// `cap · tanh(x / cap)` over `count` floats, in place (Gemma 2's soft-capping).
@inline(__always)
func softCap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
    let inverse = 1 / cap
    for i in 0..<count { x[i] = cap * Foundation.tanh(x[i] * inverse) }
}

/// `x = act(x)` over `rows` rows of `width` (a plain feed-forward).
@inline(__always)
func activate(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, activation: Activation) {
    switch activation {
    case .geluErf:
        for i in 0..<count { out[i] = 0.5 * x[i] * (1 + Foundation.erf(x[i] * 0.7071067811865476)) }
    case .silu, .geluTanh:
        // act(g) = g / (1 + exp(-s·g)), as in gatedActivation.
        let one = SIMD8<Float>(repeating: 1)
        var i = 0
        while i + 8 <= count {
            let g = load8(x + i)
            store8(g / (one + exp8(-sigmoidArgument(g, activation))), out + i)
            i += 8
        }
        if i < count {
            let n = count - i
            let g = loadPartial8(x + i, count: n)
            let value = g / (one + exp8(-sigmoidArgument(g, activation)))
            for j in 0..<n { out[i + j] = value[j] }
        }
    }
}

/// `s·g` in `act(g) = g / (1 + exp(-s·g))`: SiLU with `s = 1`; tanh-GELU, since
/// `0.5·(1 + tanh(y)) = 1 / (1 + exp(-2y))`, with `s·g = 2·√(2/π)·(g + 0.044715·g³)`.
@inline(__always)
func sigmoidArgument(_ g: SIMD8<Float>, _ activation: Activation) -> SIMD8<Float> {
    switch activation {
    case .silu, .geluErf: return g
    case .geluTanh:
        let k = SIMD8<Float>(repeating: 2 * 0.7978845608028654)  // 2·√(2/π)
        return k * (g + 0.044715 * g * g * g)
    }
}

/// Per-head RMSNorm in place: `rows` rows, each holding `heads` heads of `headWidth` at stride `rowStride`.
@inline(__always)
func headNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, headWidth: Int,
              weight: UnsafePointer<Float>, epsilon: Float) {
    for r in 0..<rows {
        for h in 0..<heads {
            let v = x + r * rowStride + h * headWidth
            rmsNorm(v, v, rows: 1, width: headWidth, weight: weight, epsilon: epsilon)
        }
    }
}

/// Cosine and sine tables for RoPE: `[position][pair]`, computed in Float64.
struct RoPETable {
    let pairs: Int
    var cos: [Float]
    var sin: [Float]

    init(positions: Int, dimensions: Int, base: Double) {
        pairs = dimensions / 2
        cos = [Float](repeating: 0, count: positions * pairs)
        sin = [Float](repeating: 0, count: positions * pairs)
        for i in 0..<pairs {
            let frequency = Foundation.pow(base, -2 * Double(i) / Double(dimensions))
            for p in 0..<positions {
                let angle = Double(p) * frequency
                cos[p * pairs + i] = Float(Foundation.cos(angle))
                sin[p * pairs + i] = Float(Foundation.sin(angle))
            }
        }
    }
}

/// Rotates `heads` heads of one row at `position`, in place.
@inline(__always)
func applyRoPE(_ v: UnsafeMutablePointer<Float>, heads: Int, headWidth: Int, position: Int,
               table: UnsafePointer<Float>, sinTable: UnsafePointer<Float>, pairs: Int, pairing: RoPEPairing) {
    let c = table + position * pairs, s = sinTable + position * pairs
    for h in 0..<heads {
        let x = v + h * headWidth
        switch pairing {
        case .adjacent:
            for i in 0..<pairs {
                let a = x[2 * i], b = x[2 * i + 1]
                x[2 * i] = a * c[i] - b * s[i]
                x[2 * i + 1] = a * s[i] + b * c[i]
            }
        case .halves:
            for i in 0..<pairs {
                let a = x[i], b = x[i + pairs]
                x[i] = a * c[i] - b * s[i]
                x[i + pairs] = a * s[i] + b * c[i]
            }
        }
    }
}

/// Softmax of `x[0..<count]` in place (entries past `count` are left untouched).
@inline(__always)
func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for i in 0..<count where x[i] > maximum { maximum = x[i] }
    let shift = SIMD8<Float>(repeating: maximum)
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
        let e = exp8(load8(x + i) - shift)
        store8(e, x + i)
        lanes += e
        i += 8
    }
    var sum = lanes.sum()
    if i < count {
        let e = exp8(loadPartial8(x + i, count: count - i) - shift)
        for j in 0..<(count - i) {
            x[i + j] = e[j]
            sum += e[j]
        }
    }
    let inverse = 1 / sum
    for i in 0..<count { x[i] *= inverse }
}

/// `out[r][i] = act(gate[r][i]) · up[r][i]`, reading the fused `[gate | up]` rows.
@inline(__always)
func gatedActivation(_ gateUp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                     rows: Int, width: Int, activation: Activation) {
    let one = SIMD8<Float>(repeating: 1)
    for r in 0..<rows {
        let g = gateUp + r * 2 * width, u = g + width, o = out + r * width
        if activation == .geluErf {
            for i in 0..<width { o[i] = 0.5 * g[i] * (1 + Foundation.erf(g[i] * 0.7071067811865476)) * u[i] }
            continue
        }
        var i = 0
        while i + 8 <= width {
            let gate = load8(g + i)
            store8(gate / (one + exp8(-sigmoidArgument(gate, activation))) * load8(u + i), o + i)
            i += 8
        }
        if i < width {
            let n = width - i
            let gate = loadPartial8(g + i, count: n)
            let value = gate / (one + exp8(-sigmoidArgument(gate, activation))) * loadPartial8(u + i, count: n)
            for j in 0..<n { o[i + j] = value[j] }
        }
    }
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// The first `count` (< 8) floats at `p`, zero-filled.
@inline(__always)
func loadPartial8(_ p: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
    var v = SIMD8<Float>()
    for j in 0..<count { v[j] = p[j] }
    return v
}

/// `exp` of eight floats: Cody–Waite reduction to `r` in ±ln2/2 and a degree-7 Taylor
/// polynomial (error ≲ 2 ulp). Inputs are clamped to [-87.3, 88.3], so the result is
/// always a finite normal number; callers only need it to vanish or saturate smoothly there.
@inline(__always)
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let clamped = pointwiseMin(pointwiseMax(x, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.3))
    // Adding 1.5·2²³ rounds to an integer n that then sits in the low mantissa bits.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = clamped * SIMD8(repeating: 1.442_695_04) + magic
    let n = shifted - magic
    // ln 2 = 0.693359375 − 2.12194440e-4, the first part exact in n · ln2.
    let r = clamped - n * SIMD8(repeating: 0.693_359_375) + n * SIMD8(repeating: 2.121_944_40e-4)
    var p = SIMD8<Float>(repeating: 1 / 5040)
    p = p * r + SIMD8(repeating: 1 / 720)
    p = p * r + SIMD8(repeating: 1 / 120)
    p = p * r + SIMD8(repeating: 1 / 24)
    p = p * r + SIMD8(repeating: 1 / 6)
    p = p * r + SIMD8(repeating: 0.5)
    p = p * r + SIMD8(repeating: 1)
    p = p * r + SIMD8(repeating: 1)
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// `x[r] += bias` for `rows` rows of `width`.
@inline(__always)
func addRowBias(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
    for r in 0..<rows {
        let row = x + r * width
        for i in 0..<width { row[i] += bias[i] }
    }
}

/// `x += y` over `count` floats.
@inline(__always)
func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}

/// `x[r] += rmsNorm(y[r]) · weight` for `rows` rows (Gemma's normalized sublayer output); `y` is overwritten.
@inline(__always)
func addNormalized(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                   weight: UnsafePointer<Float>, epsilon: Float) {
    rmsNorm(y, y, rows: rows, width: width, weight: weight, epsilon: epsilon)
    addInPlace(x, y, count: rows * width)
}
