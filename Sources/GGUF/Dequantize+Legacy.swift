/// The 32-element block types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0.
///
/// In the 4- and 5-bit types, byte `j` of `qs` holds element `j` in its low nibble and
/// element `j + 16` in its high nibble; the 5th bit of element `e` is bit `e` of `qh`.
extension Dequantizer {
    static func convertQ4_0(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 18
            let y = output + block * 32
            let d = half(base, 0)
            let qs = base + 2
            for j in 0 ..< 16 {
                let byte = qs.load(fromByteOffset: j, as: UInt8.self)
                y[j] = Float(Int32(byte & 0x0F) - 8) * d
                y[j + 16] = Float(Int32(byte >> 4) - 8) * d
            }
        }
    }

    static func convertQ4_1(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 20
            let y = output + block * 32
            let d = half(base, 0)
            let m = half(base, 2)
            let qs = base + 4
            for j in 0 ..< 16 {
                let byte = qs.load(fromByteOffset: j, as: UInt8.self)
                y[j] = Float(byte & 0x0F) * d + m
                y[j + 16] = Float(byte >> 4) * d + m
            }
        }
    }

    static func convertQ5_0(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 22
            let y = output + block * 32
            let d = half(base, 0)
            let qh = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = base + 6
            for j in 0 ..< 16 {
                let byte = UInt32(qs.load(fromByteOffset: j, as: UInt8.self))
                let low = (byte & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
                let high = (byte >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = Float(Int32(low) - 16) * d
                y[j + 16] = Float(Int32(high) - 16) * d
            }
        }
    }

    static func convertQ5_1(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 24
            let y = output + block * 32
            let d = half(base, 0)
            let m = half(base, 2)
            let qh = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = base + 8
            for j in 0 ..< 16 {
                let byte = UInt32(qs.load(fromByteOffset: j, as: UInt8.self))
                let low = (byte & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
                let high = (byte >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = Float(low) * d + m
                y[j + 16] = Float(high) * d + m
            }
        }
    }

    static func convertQ8_0(_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) {
        for block in 0 ..< blocks {
            let base = source + block * 34
            let y = output + block * 32
            let d = half(base, 0)
            let qs = base + 2
            for j in 0 ..< 32 {
                y[j] = Float(qs.load(fromByteOffset: j, as: Int8.self)) * d
            }
        }
    }
}
