import Foundation

// Elementwise kernels over raw rows. Reductions accumulate in Float32 in a fixed order,
// so results are deterministic for a given build and thread count.

/// `out[r] = x[r] / sqrt(mean(x[r]²) + eps) · weight` for `rows` rows of `width`.
@inline(__always)
func rmsNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int,
             weight: UnsafePointer<Float>, epsilon: Float) {
    for r in 0..<rows {
        let xr = x + r * width, o = out + r * width
        var sum: Float = 0
        for i in 0..<width { sum += xr[i] * xr[i] }
        let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
        for i in 0..<width { o[i] = xr[i] * scale * weight[i] }
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
    var sum: Float = 0
    for i in 0..<count {
        let e = Foundation.exp(x[i] - maximum)
        x[i] = e
        sum += e
    }
    let inverse = 1 / sum
    for i in 0..<count { x[i] *= inverse }
}

/// `out[r][i] = act(gate[r][i]) · up[r][i]`, reading the fused `[gate | up]` rows.
@inline(__always)
func gatedActivation(_ gateUp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                     rows: Int, width: Int, activation: GateActivation) {
    for r in 0..<rows {
        let g = gateUp + r * 2 * width, u = g + width, o = out + r * width
        switch activation {
        case .silu:
            for i in 0..<width { o[i] = g[i] / (1 + Foundation.exp(-g[i])) * u[i] }
        case .geluTanh:
            let k: Float = 0.7978845608028654  // √(2/π)
            for i in 0..<width {
                let x = g[i]
                o[i] = 0.5 * x * (1 + Foundation.tanh(k * (x + 0.044715 * x * x * x))) * u[i]
            }
        }
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
