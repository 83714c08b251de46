import Foundation
import GGUF
import TestSupport

/// Opens a file built by `writer`.
func openWritten(_ writer: GGUFWriter, named name: String = "written.gguf") throws -> GGUFFile {
    try GGUFFile(contentsOf: GGUFFixture.write(writer, named: name))
}

/// Dequantizes one tensor of `type` with the given bytes and dimensions, through a real file.
func dequantized(_ type: GGMLType, _ bytes: [UInt8], dimensions: [Int]) throws -> [Float] {
    var writer = GGUFWriter()
    try writer.addTensor(name: "t", dimensions: dimensions, type: type, bytes: bytes)
    let file = try openWritten(writer)
    return try file.dequantize(file.tensorInfo(named: "t"))
}

/// The little-endian bytes of a binary16 value.
func half(_ value: Float16) -> [UInt8] {
    let bits = value.bitPattern
    return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
}

/// Hand-assembled GGUF bytes, for files the writer refuses to produce.
struct RawGGUF {
    var bytes: [UInt8] = []

    init(version: UInt32 = 3, tensorCount: UInt64, keyCount: UInt64) {
        bytes = Array("GGUF".utf8)
        u32(version)
        u64(tensorCount)
        u64(keyCount)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ value: String) {
        u64(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A key with a u32 value.
    mutating func keyU32(_ key: String, _ value: UInt32) {
        string(key)
        u32(4)
        u32(value)
    }

    mutating func tensorInfo(_ name: String, dimensions: [UInt64], typeID: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dimensions.count))
        for extent in dimensions { u64(extent) }
        u32(typeID)
        u64(offset)
    }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int = 32) {
        bytes.append(contentsOf: repeatElement(0, count: (alignment - bytes.count % alignment) % alignment))
    }

    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
}

/// Opens `bytes` saved as `name` and returns the error it throws (nil if it opened).
func openingError(_ bytes: [UInt8], named name: String) throws -> GGUFError? {
    let url = try GGUFFixture.write(bytes: bytes, named: name)
    do {
        _ = try GGUFFile(contentsOf: url)
        return nil
    } catch let error as GGUFError {
        return error
    }
}
