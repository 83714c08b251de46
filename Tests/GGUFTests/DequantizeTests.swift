import Foundation
import GGUF
import Testing

/// Each type is checked on blocks assembled by hand, against values worked out from the
/// formulas in shared/design/engine.md §A1.3 (scales chosen to be exact in binary16 so
/// the expected floats are exact).
@Suite("Dequantization of hand-built blocks")
struct DequantizeTests {
    @Test func f32IsCopied() throws {
        let values: [Float] = [1, -2.5, .greatestFiniteMagnitude, -0.0]
        let result = try dequantized(.f32, GGUFWriter.bytes(of: values), dimensions: [4])
        #expect(result.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func f16WidensExactly() throws {
        let values: [Float16] = [1, -2, 0.5, 65504, Float16(bitPattern: 0x0001)]
        let result = try dequantized(.f16, values.flatMap(half), dimensions: [5])
        #expect(result == [1, -2, 0.5, 65504, 0x1p-24])
    }

    @Test func bf16IsTheUpperHalfOfAnF32() throws {
        // 0x3F80 → 1.0, 0xC040 → -3.0, 0x4049 → 3.140625
        let result = try dequantized(.bf16, [0x80, 0x3F, 0x40, 0xC0, 0x49, 0x40], dimensions: [3])
        #expect(result == [1.0, -3.0, 3.140625])
    }

    @Test func q4_0LowNibblesFirstThenHighNibbles() throws {
        // d = 0.5; byte j holds j in its low nibble and 15 − j in its high nibble.
        let qs = (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let y = try dequantized(.q4_0, half(0.5) + qs, dimensions: [32])
        for j in 0 ..< 16 {
            #expect(y[j] == Float(j - 8) * 0.5)
            #expect(y[j + 16] == Float(15 - j - 8) * 0.5)
        }
        #expect(y[0] == -4 && y[15] == 3.5 && y[16] == 3.5 && y[31] == -4)
    }

    @Test func q4_1AddsTheMin() throws {
        // d = 0.25, m = -1: y = nibble · 0.25 − 1.
        let qs = (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let y = try dequantized(.q4_1, half(0.25) + half(-1) + qs, dimensions: [32])
        for j in 0 ..< 16 {
            #expect(y[j] == Float(j) * 0.25 - 1)
            #expect(y[j + 16] == Float(15 - j) * 0.25 - 1)
        }
        #expect(y[15] == 2.75 && y[16] == 2.75 && y[0] == -1)
    }

    @Test func q5_0TakesTheFifthBitFromBitEOfQh() throws {
        // d = 1; qh has bits 0, 17 and 31 set (little-endian u32).
        let qh: UInt32 = 1 << 0 | 1 << 17 | 1 << 31
        var qs = [UInt8](repeating: 0, count: 16)
        qs[0] = 0x21  // element 0 ← 1, element 16 ← 2
        qs[15] = 0xF0  // element 15 ← 0, element 31 ← 15
        let block = half(1) + withUnsafeBytes(of: qh.littleEndian, Array.init) + qs
        let y = try dequantized(.q5_0, block, dimensions: [32])
        #expect(y[0] == 1)  // (1 + 16) − 16
        #expect(y[1] == -16)  // (0 + 0) − 16
        #expect(y[16] == -14)  // (2 + 0) − 16
        #expect(y[17] == 0)  // (0 + 16) − 16: bit 17 belongs to element 17
        #expect(y[15] == -16)
        #expect(y[31] == 15)  // (15 + 16) − 16
    }

    @Test func q5_1UsesQ5_0BitsAndAddsTheMin() throws {
        // d = 0.5, m = 2; element e's 5th bit is bit e of qh.
        let qh: UInt32 = 0xA5A5_0F0F
        let qs = (0 ..< 16).map { UInt8($0) | UInt8(($0 * 7) % 16) << 4 }
        let block = half(0.5) + half(2) + withUnsafeBytes(of: qh.littleEndian, Array.init) + qs
        let y = try dequantized(.q5_1, block, dimensions: [32])
        for j in 0 ..< 16 {
            let low = j + Int((qh >> UInt32(j)) & 1) * 16
            let high = (j * 7) % 16 + Int((qh >> UInt32(j + 16)) & 1) * 16
            #expect(y[j] == Float(low) * 0.5 + 2)
            #expect(y[j + 16] == Float(high) * 0.5 + 2)
        }
        #expect(y[0] == 10)  // (0 + 16) · 0.5 + 2: bit 0 is set
        #expect(y[4] == 4)  // (4 + 0) · 0.5 + 2: bit 4 is clear
        #expect(y[17] == 5.5)  // (7 + 0) · 0.5 + 2: bit 17 is clear
        #expect(y[18] == 17)  // (14 + 16) · 0.5 + 2: bit 18 is set
    }

    @Test func q8_0ScalesSignedBytes() throws {
        let qs: [Int8] = (0 ..< 32).map { Int8(truncatingIfNeeded: $0 * 9 - 128) }
        let y = try dequantized(.q8_0, half(0.25) + qs.map { UInt8(bitPattern: $0) }, dimensions: [32])
        #expect(y == qs.map { Float($0) * 0.25 })
        #expect(y[0] == -32)
    }

    // MARK: K-quants

    /// 6-bit scales and mins for sub-blocks 0…7; 4…7 exercise the split high bits.
    static let subScales: [UInt8] = [1, 2, 3, 63, 5, 33, 47, 60]
    static let subMins: [UInt8] = [0, 7, 62, 4, 9, 48, 17, 63]

    /// Packs scales and mins the way Q4_K/Q5_K store them in `scales[12]`.
    static func packedScales() -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0 ..< 4 {
            packed[j] = subScales[j] | (subScales[j + 4] >> 4) << 6
            packed[j + 4] = subMins[j] | (subMins[j + 4] >> 4) << 6
            packed[j + 8] = (subScales[j + 4] & 0x0F) | (subMins[j + 4] & 0x0F) << 4
        }
        return packed
    }

    static let kQuantNibbles: [UInt8] = (0 ..< 128).map { index in
        let (chunk, l) = (index / 32, index % 32)
        return UInt8((l + chunk) % 16) | UInt8((l * 3 + chunk) % 16) << 4
    }

    @Test func q4_KUnpacksSixBitScalesAndChunkedNibbles() throws {
        // d = 1, dmin = 0.5.
        #expect(Self.packedScales() == [0x01, 0x82, 0x83, 0xFF, 0x00, 0xC7, 0x7E, 0xC4, 0x95, 0x01, 0x1F, 0xFC])
        let block = half(1) + half(0.5) + Self.packedScales() + Self.kQuantNibbles
        let y = try dequantized(.q4_K, block, dimensions: [256])
        for chunk in 0 ..< 4 {
            for l in 0 ..< 32 {
                let byte = Self.kQuantNibbles[32 * chunk + l]
                let (a, b) = (2 * chunk, 2 * chunk + 1)
                #expect(y[64 * chunk + l] == Float(Self.subScales[a]) * Float(byte & 0x0F) - 0.5 * Float(Self.subMins[a]))
                #expect(y[64 * chunk + 32 + l] == Float(Self.subScales[b]) * Float(byte >> 4) - 0.5 * Float(Self.subMins[b]))
            }
        }
        // Element 128 is sub-block 4 (scale 5, min 9), nibble 2: 5·2 − 0.5·9.
        #expect(y[128] == 5.5)
        // Element 255 is sub-block 7 (scale 60, min 63), high nibble of (31·3 + 3) % 16 = 0.
        #expect(y[255] == -31.5)
    }

    @Test func q5_KTakesFifthBitsFromQhBitsTwoCAndTwoCPlusOne() throws {
        // d = 1, dmin = 0.5; qh[l] = l · 37 mod 256.
        let qh = (0 ..< 32).map { UInt8(($0 * 37) & 0xFF) }
        let block = half(1) + half(0.5) + Self.packedScales() + qh + Self.kQuantNibbles
        let y = try dequantized(.q5_K, block, dimensions: [256])
        for chunk in 0 ..< 4 {
            for l in 0 ..< 32 {
                let byte = Self.kQuantNibbles[32 * chunk + l]
                let lowBit = (qh[l] >> UInt8(2 * chunk)) & 1
                let highBit = (qh[l] >> UInt8(2 * chunk + 1)) & 1
                let (a, b) = (2 * chunk, 2 * chunk + 1)
                let low = Float(byte & 0x0F) + 16 * Float(lowBit)
                let high = Float(byte >> 4) + 16 * Float(highBit)
                #expect(y[64 * chunk + l] == Float(Self.subScales[a]) * low - 0.5 * Float(Self.subMins[a]))
                #expect(y[64 * chunk + 32 + l] == Float(Self.subScales[b]) * high - 0.5 * Float(Self.subMins[b]))
            }
        }
        // qh[1] = 37 = 0b100101: element 1 (bit 0 set) gets +16, element 33 (bit 1 clear) does not,
        // element 65 (bit 2 set) gets +16.
        #expect(y[1] == 1 * Float(1 + 16) - 0.5 * 0)  // sub-block 0: scale 1, min 0, nibble 1
        #expect(y[33] == 2 * Float(3) - 0.5 * 7)  // sub-block 1: nibble (1·3) % 16
        #expect(y[65] == 3 * Float(2 + 16) - 0.5 * 62)  // sub-block 2: nibble (1 + 1) % 16
    }

    @Test func q6_KOrdersElementsLPlus32Plus64Plus96WithSignedScalesLast() throws {
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        ql[0] = 0x5A  // element 0 low nibble 0xA, element 64 high nibble 5
        qh[0] = 0b11_10_01_00  // 2-bit fields for elements 0, 32, 64, 96
        ql[64 + 17] = 0x3F  // second half, l = 17 (scale group 1)
        ql[64 + 49] = 0x07
        qh[32 + 17] = 0b00_01_10_11
        let scales: [Int8] = [1, -2, 3, -4, 5, -6, 7, -8, -1, 2, -3, 4, -5, 6, -7, 127]
        let block = ql + qh + scales.map { UInt8(bitPattern: $0) } + half(0.5)
        let y = try dequantized(.q6_K, block, dimensions: [256])

        // First half, l = 0: scales 0, 2, 4, 6.
        #expect(y[0] == 0.5 * 1 * Float((0xA | 0 << 4) - 32))  // low nibble of ql[0], bits 0–1 of qh[0]
        #expect(y[32] == 0.5 * 3 * Float((0 | 1 << 4) - 32))  // low nibble of ql[32], bits 2–3
        #expect(y[64] == 0.5 * 5 * Float((5 | 2 << 4) - 32))  // high nibble of ql[0], bits 4–5
        #expect(y[96] == 0.5 * 7 * Float((0 | 3 << 4) - 32))  // high nibble of ql[32], bits 6–7
        #expect(y[16] == 0.5 * -2 * -32)  // l = 16 uses scale 1
        // Second half, l = 17: ql[64…], qh[32…], scales 8 + 1 + {0, 2, 4, 6}.
        #expect(y[128 + 17] == 0.5 * 2 * Float((0xF | 3 << 4) - 32))
        #expect(y[128 + 49] == 0.5 * 4 * Float((0x7 | 2 << 4) - 32))
        #expect(y[128 + 81] == 0.5 * 6 * Float((0x3 | 1 << 4) - 32))
        #expect(y[128 + 113] == 0.5 * 127 * Float((0 | 0 << 4) - 32))
        #expect(y[255] == 0.5 * 127 * -32)
        #expect(y[0] == -11 && y[32] == -24 && y[64] == 12.5 && y[96] == 56)
        #expect(y[145] == 31 && y[177] == 14 && y[209] == -39 && y[241] == -2032)
    }

    // MARK: Rows and sizes

    @Test func rowsMatchTheWholeTensor() throws {
        // Three rows of 64 Q8_0 elements (two blocks each) with distinct scales.
        var bytes: [UInt8] = []
        for block in 0 ..< 6 {
            bytes += half(Float16(Float(block + 1) * 0.125))
            bytes += (0 ..< 32).map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0 * 5 - block * 11)) }
        }
        var writer = GGUFWriter()
        try writer.addTensor(name: "embd", dimensions: [64, 3], type: .q8_0, bytes: bytes)
        let file = try openWritten(writer)
        let info = try file.tensorInfo(named: "embd")
        #expect(info.rowLength == 64 && info.rowCount == 3 && info.elementCount == 192)
        let whole = try file.dequantize(info)
        var rows = [Float](repeating: .nan, count: 128)
        try rows.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows: 1 ..< 3, into: $0) }
        #expect(rows == Array(whole[64 ..< 192]))
        var empty: [Float] = []
        try empty.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows: 2 ..< 2, into: $0) }
        #expect(throws: GGUFError.self) {
            try rows.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows: 2 ..< 4, into: $0) }
        }
        #expect(throws: GGUFError.self) {
            var short = [Float](repeating: 0, count: 63)
            try short.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows: 0 ..< 1, into: $0) }
        }
    }

    @Test func blockGeometryOfTheSupportedTypes() {
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22),
            .q5_1: (32, 24), .q8_0: (32, 34), .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210),
        ]
        for (type, (elements, bytes)) in expected {
            #expect(type.blockElements == elements && type.blockBytes == bytes, "\(type)")
            #expect(type.isDequantizable)
        }
        #expect(GGMLType.dequantizableTypes.count == 11)
        #expect(!GGMLType.q2_K.isDequantizable && GGMLType.q2_K.description == "Q2_K (10)")
    }
}
