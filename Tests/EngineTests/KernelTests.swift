import Foundation
import Testing
@testable import Engine

/// The vectorized elementwise kernels against plain Float64 formulas.
@Suite("Elementwise kernels")
struct KernelTests {
    /// Inputs spread over the range the kernels see, plus the clamping edges.
    static let inputs: [Float] = (0..<4001).map { Float($0 - 2000) / 40 } + [-200, -87.5, 88.5, 200, 0, -0.0]

    @Test("exp8 is within 3 ulp-ish (4e-7 relative) of exp over ±50")
    func exponential() {
        var worst = 0.0
        for start in stride(from: 0, to: Self.inputs.count - 8, by: 8) {
            var v = SIMD8<Float>()
            for j in 0..<8 { v[j] = Self.inputs[start + j] }
            let e = exp8(v)
            for j in 0..<8 where abs(v[j]) <= 50 {
                let exact = Foundation.exp(Double(v[j]))
                worst = max(worst, abs(Double(e[j]) - exact) / exact)
            }
            #expect((0..<8).allSatisfy { e[$0].isFinite && e[$0] > 0 })
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
    }

    @Test("SiLU, tanh-GELU and erf-GELU gates match their Float64 definitions", arguments: [GateActivation.silu, .geluTanh, .geluErf])
    func gates(activation: GateActivation) {
        let width = 13  // a vector part and a tail
        let gates = Self.inputs.filter { abs($0) <= 30 }
        let rows = gates.count / width
        var gateUp = [Float](repeating: 0, count: rows * 2 * width)
        for r in 0..<rows {
            for i in 0..<width {
                gateUp[r * 2 * width + i] = gates[r * width + i]
                gateUp[r * 2 * width + width + i] = Float(i) / 7 - 0.9
            }
        }
        var out = [Float](repeating: 0, count: rows * width)
        gateUp.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                gatedActivation(g.baseAddress!, o.baseAddress!, rows: rows, width: width, activation: activation)
            }
        }
        for r in 0..<rows {
            for i in 0..<width {
                let x = Double(gateUp[r * 2 * width + i]), up = Double(gateUp[r * 2 * width + width + i])
                let expected = switch activation {
                case .silu: x / (1 + Foundation.exp(-x)) * up
                case .geluTanh: 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * up
                case .geluErf: 0.5 * x * (1 + erf(x / 2.0.squareRoot())) * up
                }
                let computed = Double(out[r * width + i])
                #expect(abs(computed - expected) <= 1e-6 * max(1, abs(expected)), "x \(x): \(computed) vs \(expected)")
            }
        }
    }

    @Test("softmax sums to one and matches Float64, for lengths with and without a tail", arguments: [1, 5, 8, 21])
    func softmaxMatches(count: Int) {
        var x = (0..<count).map { Float(sin(Double($0) * 1.7) * 9) }
        let expected = x.map { Foundation.exp(Double($0)) }
        let total = expected.reduce(0, +)
        x.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: count) }
        for i in 0..<count {
            #expect(abs(Double(x[i]) - expected[i] / total) <= 1e-6, "entry \(i)")
        }
    }

    @Test("LayerNorm with bias matches Float64, an offset row included", arguments: [8, 13, 64])
    func layerNormMatches(width: Int) {
        let x = (0..<(2 * width)).map { Float(cos(Double($0) * 0.37) * 3 + ($0 < width ? 0 : 40)) }
        let weight = (0..<width).map { 1 + Float($0) / Float(width) }
        let bias = (0..<width).map { Float($0) / Float(width) - 0.5 }
        var out = [Float](repeating: 0, count: 2 * width)
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        layerNorm(xb.baseAddress!, o.baseAddress!, rows: 2, width: width, weight: w.baseAddress!,
                                  bias: b.baseAddress!, epsilon: 1e-5)
                    }
                }
            }
        }
        for r in 0..<2 {
            let row = x[r * width ..< (r + 1) * width].map(Double.init)
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            for i in 0..<width {
                let expected = (row[i] - mean) / (variance + 1e-5).squareRoot() * Double(weight[i]) + Double(bias[i])
                #expect(abs(Double(out[r * width + i]) - expected) <= 2e-6 * max(1, abs(expected)))
            }
        }
    }

    @Test("RMSNorm matches Float64 for widths with and without a tail", arguments: [8, 13, 64])
    func rmsNormMatches(width: Int) {
        let x = (0..<(2 * width)).map { Float(cos(Double($0) * 0.37) * 3) }
        let weight = (0..<width).map { 1 + Float($0) / Float(width) }
        var out = [Float](repeating: 0, count: 2 * width)
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    rmsNorm(xb.baseAddress!, o.baseAddress!, rows: 2, width: width, weight: w.baseAddress!, epsilon: 1e-6)
                }
            }
        }
        for r in 0..<2 {
            let row = x[r * width ..< (r + 1) * width].map(Double.init)
            let scale = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(width) + 1e-6).squareRoot()
            for i in 0..<width {
                let expected = row[i] * scale * Double(weight[i])
                #expect(abs(Double(out[r * width + i]) - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
    }

    @Test("work shares cover every item once, balanced by cost")
    func shares() {
        for count in [0, 1, 7, 64] {
            for workers in 1...3 {
                let ranges = (0..<workers).map { share(of: count, worker: $0, workers: workers) }
                #expect(ranges.flatMap { Array($0) } == Array(0..<count))
            }
        }
        let costs = [100, 1, 1, 1, 100, 1]
        let balanced = balancedShares(costs: costs, workers: 2)
        #expect(balanced.flatMap { Array($0) } == Array(costs.indices))
        #expect(balanced == [0..<3, 3..<6])  // 102 and 102
        #expect(balancedShares(costs: [5], workers: 2).flatMap { Array($0) } == [0])
    }
}
