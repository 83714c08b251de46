import Foundation

/// Log-normalizers and KL divergences of Float32 logit rows (a 49k vocabulary per row), fused and
/// four lanes wide: what LoT-2's truncation sweep and the SR KL readout spend their statistics on.
///
/// The arithmetic is fixed whatever the machine: Float32 logits widened to Float64, the
/// portable ``negativeExp(_:)`` (arithmetic only, no libm) wherever its argument is ≥ −708, four
/// lane accumulators summed in lane order. Only the far tail uses libm: an argument in (−746, −708)
/// gets `exp` (a subnormal, so that a probability is exactly 0 where Float64's `exp` gives 0, as the LoT
/// code's machine-epsilon rule needs), and an argument ≤ −746 is 0 without a call.
enum LogitKernels {
    /// Below this, `negativeExp` clamps to 0; from here down to ``Statistics/expUnderflow`` libm's `exp` is subnormal.
    static let portableFloor = -708.0

    /// e^x for x ≤ 0 with the kernels' rule: portable above −708, libm in the subnormal band, 0 below −746.
    @inline(__always)
    static func exponential(_ x: Double) -> Double {
        if x >= portableFloor { return negativeExp(x) }
        return x > Statistics.expUnderflow ? Foundation.exp(x) : 0
    }

    @inline(__always)
    static func widened(_ row: UnsafeBufferPointer<Float>, _ i: Int) -> SIMD4<Double> {
        let raw = UnsafeRawPointer(row.baseAddress! + i)
        return SIMD4<Double>(raw.loadUnaligned(as: SIMD4<Float>.self))
    }

    /// ln Σ exp(xᵢ) of one row: the maximum, then Σ e^(xᵢ − max) in four lanes.
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
        guard !row.isEmpty else { return -.infinity }
        var top = -Float.infinity
        for v in row where v > top || v.isNaN { top = v; if v.isNaN { break } }
        let shift = Double(top)
        guard shift.isFinite else { return shift }
        let n = row.count, whole = n & ~3
        var lanes = SIMD4<Double>(repeating: 0)
        var i = 0
        while i < whole {
            let d = widened(row, i) - shift
            if !any(d .< portableFloor) {
                lanes += negativeExp(d)
            } else {
                for lane in 0..<4 { lanes[lane] += exponential(d[lane]) }
            }
            i += 4
        }
        while i < n {
            lanes[i & 3] += exponential(Double(row[i]) - shift)
            i += 1
        }
        return shift + Foundation.log(((lanes[0] + lanes[1]) + lanes[2]) + lanes[3])
    }

    /// KL(p ‖ q) = Σ pᵢ (ln pᵢ − ln qᵢ) with p = softmax(logitsP), q = softmax(logitsQ) and the LoT code's
    /// rule: a probability that is exactly 0 becomes machine epsilon (ln: ln ε), in p and in q.
    static func klDivergence(_ logitsP: UnsafeBufferPointer<Float>, _ logitsQ: UnsafeBufferPointer<Float>,
                             normalizerP: Double, normalizerQ: Double) -> Double {
        let n = logitsP.count, whole = n & ~3
        let floor = Foundation.log(Double.ulpOfOne)
        var lanes = SIMD4<Double>(repeating: 0)
        // One term with the rule spelled out: the path of every lane that is near underflow.
        @inline(__always) func term(_ lpIn: Double, _ lqIn: Double) -> Double {
            var lp = lpIn
            var p = exponential(lp)
            if p == 0 { p = .ulpOfOne; lp = floor }
            let lq = exponential(lqIn) == 0 ? floor : lqIn
            return p * (lp - lq)
        }
        var i = 0
        while i < whole {
            let lp = widened(logitsP, i) - normalizerP
            let lq = widened(logitsQ, i) - normalizerQ
            // Both far from underflow in every lane (the common case): no rule applies.
            if !any(lp .< portableFloor), !any(lq .< portableFloor) {
                lanes += negativeExp(lp) * (lp - lq)
            } else {
                for lane in 0..<4 { lanes[lane] += term(lp[lane], lq[lane]) }
            }
            i += 4
        }
        while i < n {
            lanes[i & 3] += term(Double(logitsP[i]) - normalizerP, Double(logitsQ[i]) - normalizerQ)
            i += 1
        }
        return ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]
    }
}
