/// The 256-element super-block types Q4_K, Q5_K and Q6_K.
extension Dequantizer {
    /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K `scales[12]`.
    ///
    /// Bytes 0–3 hold the scales of sub-blocks 0–3 and the top 2 bits of scales 4–7;
    /// bytes 4–7 the mins of 0–3 and the top bits of mins 4–7; bytes 8–11 the low
    /// nibbles of the scale (low half) and min (high half) of sub-blocks 4–7.
    @inline(__always)
    static func scaleAndMin(_ scales: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
        let s = { (index: Int) in scales.load(fromByteOffset: index, as: UInt8.self) }
        if j < 4 {
            return (Float(s(j) & 63), Float(s(j + 4) & 63))
        }
        let scale = (s(j + 4) & 0x0F) | ((s(j - 4) >> 6) << 4)
        let min = (s(j + 4) >> 4) | ((s(j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    static func convertQ4_K(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 144
            let y = output + block * 256
            let d = half(base, 0)
            let dmin = half(base, 2)
            let scales = base + 4
            let qs = base + 16
            // Chunk c: 32 bytes giving sub-block 2c (low nibbles) and 2c+1 (high nibbles).
            for chunk in 0 ..< 4 {
                let (sc1, mn1) = scaleAndMin(scales, 2 * chunk)
                let (sc2, mn2) = scaleAndMin(scales, 2 * chunk + 1)
                let d1 = d * sc1, m1 = dmin * mn1
                let d2 = d * sc2, m2 = dmin * mn2
                let q = qs + 32 * chunk
                let out = y + 64 * chunk
                for l in 0 ..< 32 {
                    let byte = q.load(fromByteOffset: l, as: UInt8.self)
                    out[l] = d1 * Float(byte & 0x0F) - m1
                    out[l + 32] = d2 * Float(byte >> 4) - m2
                }
            }
        }
    }

    static func convertQ5_K(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 176
            let y = output + block * 256
            let d = half(base, 0)
            let dmin = half(base, 2)
            let scales = base + 4
            let qh = base + 16
            let qs = base + 48
            for chunk in 0 ..< 4 {
                let (sc1, mn1) = scaleAndMin(scales, 2 * chunk)
                let (sc2, mn2) = scaleAndMin(scales, 2 * chunk + 1)
                let d1 = d * sc1, m1 = dmin * mn1
                let d2 = d * sc2, m2 = dmin * mn2
                let lowBit = UInt8(1) << UInt8(2 * chunk)
                let highBit = UInt8(2) << UInt8(2 * chunk)
                let q = qs + 32 * chunk
                let out = y + 64 * chunk
                for l in 0 ..< 32 {
                    let byte = q.load(fromByteOffset: l, as: UInt8.self)
                    let bits = qh.load(fromByteOffset: l, as: UInt8.self)
                    let low = (byte & 0x0F) + (bits & lowBit != 0 ? 16 : 0)
                    let high = (byte >> 4) + (bits & highBit != 0 ? 16 : 0)
                    out[l] = d1 * Float(low) - m1
                    out[l + 32] = d2 * Float(high) - m2
                }
            }
        }
    }

    static func convertQ6_K(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 210
            let y = output + block * 256
            let d = half(base, 208)  // the scale comes last in Q6_K
            // Two halves of 128 elements; each has 64 bytes of ql, 32 of qh and 8 scales.
            for halfIndex in 0 ..< 2 {
                let ql = base + 64 * halfIndex
                let qh = base + 128 + 32 * halfIndex
                let sc = base + 192 + 8 * halfIndex
                let out = y + 128 * halfIndex
                for l in 0 ..< 32 {
                    let group = l / 16
                    let low = ql.load(fromByteOffset: l, as: UInt8.self)
                    let lowNext = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                    let bits = qh.load(fromByteOffset: l, as: UInt8.self)
                    let q1 = Int32((low & 0x0F) | ((bits & 0x03) << 4)) - 32
                    let q2 = Int32((lowNext & 0x0F) | (((bits >> 2) & 0x03) << 4)) - 32
                    let q3 = Int32((low >> 4) | (((bits >> 4) & 0x03) << 4)) - 32
                    let q4 = Int32((lowNext >> 4) | (((bits >> 6) & 0x03) << 4)) - 32
                    out[l] = d * Float(sc.load(fromByteOffset: group, as: Int8.self)) * Float(q1)
                    out[l + 32] = d * Float(sc.load(fromByteOffset: group + 2, as: Int8.self)) * Float(q2)
                    out[l + 64] = d * Float(sc.load(fromByteOffset: group + 4, as: Int8.self)) * Float(q3)
                    out[l + 96] = d * Float(sc.load(fromByteOffset: group + 6, as: Int8.self)) * Float(q4)
                }
            }
        }
    }
}
