import Foundation
import GGUF
import Testing

@Suite("GGUFWriter round trip")
struct RoundTripTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("test.u8", .uint8(200)),
        ("test.i8", .int8(-100)),
        ("test.u16", .uint16(60000)),
        ("test.i16", .int16(-30000)),
        ("test.u32", .uint32(4_000_000_000)),
        ("test.i32", .int32(-2_000_000_000)),
        ("test.f32", .float32(1.5e-5)),
        ("test.bool", .bool(true)),
        ("test.string", .string("héllo ✓")),
        ("test.array", .array([.int32(1), .int32(-2), .int32(3)])),
        ("test.u64", .uint64(UInt64.max)),
        ("test.i64", .int64(Int64.min)),
        ("test.f64", .float64(-2.25)),
        ("test.strings", .array([.string("a"), .string(""), .string("Ġthe")])),
        ("test.nested", .array([.array([.uint8(1), .uint8(2)]), .array([]), .array([.uint8(3)])])),
        ("test.empty", .array([])),
    ]

    @Test func metadataOfEveryValueTypeSurvives() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.setValue(value, forKey: key) }
        let file = try openWritten(writer)
        #expect(file.version == 3)
        #expect(file.metadata.keys == Self.everyValue.map(\.0))
        for (key, value) in Self.everyValue {
            #expect(file.metadata[key] == value, "\(key)")
        }
        #expect(file.tensors.isEmpty)
    }

    @Test func typedAccessorsConvertAcrossWidths() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.setValue(value, forKey: key) }
        let metadata = try openWritten(writer).metadata
        #expect(try metadata.int("test.u8") == 200)
        #expect(try metadata.int("test.u32") == 4_000_000_000)
        #expect(try metadata.int("test.i64") == Int(Int64.min))
        #expect(try metadata.float("test.f32") == Double(Float(1.5e-5)))
        #expect(try metadata.float("test.i16") == -30000)
        #expect(try metadata.string("test.string") == "héllo ✓")
        #expect(try metadata.bool("test.bool"))
        #expect(try metadata.ints("test.array") == [1, -2, 3])
        #expect(try metadata.floats("test.array") == [1, -2, 3])
        #expect(try metadata.strings("test.strings") == ["a", "", "Ġthe"])
        #expect(try metadata.strings("test.empty") == [])
        #expect(try metadata.intIfPresent("absent") == nil)
        #expect(try metadata.floatIfPresent("test.f64") == -2.25)
        #expect(try metadata.stringIfPresent("absent") == nil)
        #expect(try metadata.boolIfPresent("test.bool") == true)
        // u64 beyond Int.max is not an Int.
        #expect(throws: GGUFError.self) { try metadata.int("test.u64") }
    }

    @Test func tensorsOfSeveralTypesSurviveWithAlignment() throws {
        var writer = GGUFWriter(alignment: 64)
        writer.setValue(.string("llama"), forKey: "general.architecture")
        let norm: [Float] = [1, 2, 3, 4, 5]
        try writer.addTensor(name: "norm.weight", dimensions: [5], type: .f32, bytes: GGUFWriter.bytes(of: norm))
        let q8 = half(2) + (0 ..< 32).map { UInt8($0) }
        try writer.addTensor(name: "q8", dimensions: [32, 2], type: .q8_0, bytes: q8 + q8)
        let q4k = [UInt8](repeating: 0x11, count: 144)
        try writer.addTensor(name: "blk.0.w", dimensions: [256, 1, 1, 1], type: .q4_K, bytes: q4k)
        try writer.addTensor(name: "q2", dimensions: [256], type: .q2_K, bytes: [UInt8](repeating: 0, count: 84))
        let file = try openWritten(writer)

        #expect(file.alignment == 64)
        #expect(try file.metadata.int("general.alignment") == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.tensors.map(\.name) == ["norm.weight", "q8", "blk.0.w", "q2"])
        #expect(file.tensors.map(\.type) == [.f32, .q8_0, .q4_K, .q2_K])
        for info in file.tensors { #expect(info.offset % 64 == 0) }
        let q8Info = try file.requireShape("q8", [32, 2])
        #expect(q8Info.byteCount == 68 && q8Info.offset == file.dataOffset + 64)
        #expect(Array(file.rawBytes(q8Info)) == q8 + q8)
        #expect(try file.dequantize(file.tensorInfo(named: "norm.weight")) == norm)
        #expect(try file.dequantize(q8Info) == [Float]((0 ..< 64).map { Float($0 % 32) * 2 }))
        #expect(try file.dequantize(file.tensorInfo(named: "blk.0.w")).count == 256)
        #expect(file.fileSize == (try writer.encoded()).count)
    }

    @Test func writerRejectsInconsistentInput() throws {
        var writer = GGUFWriter()
        #expect(throws: GGUFWriter.Failure.self) {
            try writer.addTensor(name: "x", dimensions: [32], type: .q8_0, bytes: [0, 1])
        }
        #expect(throws: GGUFWriter.Failure.self) {
            try writer.addTensor(name: "x", dimensions: [16], type: .q8_0, bytes: [UInt8](repeating: 0, count: 17))
        }
        writer.setValue(.array([.uint8(1), .string("x")]), forKey: "mixed")
        #expect(throws: GGUFWriter.Failure.self) { try writer.encoded() }
    }
}
