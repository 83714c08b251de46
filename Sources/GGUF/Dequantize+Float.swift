/// Plain float types: F32 (copied), F16 (exact widening) and BF16 (upper half of an f32).
extension Dequantizer {
    static func convertF32(_ source: UnsafeRawPointer, _ count: Int, _ output: UnsafeMutablePointer<Float>) {
        for index in 0 ..< count {
            output[index] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        }
    }

    static func convertF16(_ source: UnsafeRawPointer, _ count: Int, _ output: UnsafeMutablePointer<Float>) {
        for index in 0 ..< count {
            output[index] = half(source, 2 * index)
        }
    }

    static func convertBF16(_ source: UnsafeRawPointer, _ count: Int, _ output: UnsafeMutablePointer<Float>) {
        for index in 0 ..< count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
            output[index] = Float(bitPattern: UInt32(bits) << 16)
        }
    }
}
