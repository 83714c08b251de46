import Foundation
import GGUF
import Testing

/// One malformed input per check; every message must name the file.
@Suite("GGUF errors")
struct ErrorTests {
    /// Opens `bytes` as `name` and checks the error kind and that the message names the file.
    func expectOpeningFails(_ bytes: [UInt8], named name: String, _ kind: GGUFError.Kind,
                            offset: Int? = nil, mentioning words: [String] = [],
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(try openingError(bytes, named: name), sourceLocation: sourceLocation)
        #expect(error.kind == kind, sourceLocation: sourceLocation)
        #expect(error.description.contains(name), "\(error)", sourceLocation: sourceLocation)
        if let offset { #expect(error.offset == offset, sourceLocation: sourceLocation) }
        for word in words {
            #expect(error.description.contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func notAGGUF() throws {
        try expectOpeningFails(Array("PK\u{3}\u{4} a zip file".utf8), named: "zip.gguf", .notGGUF, offset: 0)
        try expectOpeningFails([], named: "empty.gguf", .notGGUF)
    }

    @Test func badVersion() throws {
        try expectOpeningFails(RawGGUF(version: 4, tensorCount: 0, keyCount: 0).bytes, named: "v4.gguf",
                               .unsupportedVersion(4), offset: 4, mentioning: ["version 4"])
        try expectOpeningFails(RawGGUF(version: 1, tensorCount: 0, keyCount: 0).bytes, named: "v1.gguf",
                               .unsupportedVersion(1))
    }

    @Test func bigEndianFile() throws {
        try expectOpeningFails(RawGGUF(version: 0x0300_0000, tensorCount: 0, keyCount: 0).bytes,
                               named: "big.gguf", .endiannessMismatch, mentioning: ["endianness"])
    }

    @Test func truncatedHeader() throws {
        let bytes = Array(RawGGUF(tensorCount: 0, keyCount: 0).bytes.prefix(12))
        try expectOpeningFails(bytes, named: "short.gguf",
                               .truncated(what: "the tensor count", end: 16, fileSize: 12), offset: 8,
                               mentioning: ["truncated"])
    }

    @Test func hugeStringLengthIsRejectedWithoutAllocating() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 1)
        raw.string("general.name")
        raw.u32(8)
        raw.u64(0x7FFF_FFFF_FFFF_FF00)  // the string's length
        raw.bytes += Array("tiny".utf8)
        let error = try #require(try openingError(raw.bytes, named: "huge-string.gguf"))
        #expect(error.description.contains("huge-string.gguf"))
        #expect(error.offset == 24 + 8 + 12 + 4)
        guard case .truncated(let what, let end, let fileSize) = error.kind else {
            Issue.record("expected truncated, got \(error)")
            return
        }
        #expect(what.contains("general.name") && end > fileSize && fileSize == raw.bytes.count)
    }

    @Test func hugeArrayCountIsRejected() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 1)
        raw.string("tokenizer.ggml.tokens")
        raw.u32(9)
        raw.u32(8)
        raw.u64(UInt64.max)
        guard case .implausibleCount = try #require(try openingError(raw.bytes, named: "huge-array.gguf")).kind else {
            Issue.record("expected implausibleCount")
            return
        }
        var countOnly = RawGGUF(tensorCount: 0, keyCount: 1 << 60)
        countOnly.zeros(64)
        try expectOpeningFails(countOnly.bytes, named: "huge-count.gguf",
                               .implausibleCount(what: "metadata key count", count: 1 << 60))
    }

    @Test func tensorDataPastTheEnd() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "blk.0.attn_q.weight", dimensions: [32, 2], type: .q8_0,
                             bytes: [UInt8](repeating: 0, count: 68))
        var bytes = try writer.encoded()
        let dataStart = bytes.count - 96  // 68 bytes padded to 96
        bytes.removeLast(40)
        try expectOpeningFails(bytes, named: "cut.gguf",
                               .truncated(what: "tensor 'blk.0.attn_q.weight' data", end: dataStart + 68,
                                          fileSize: dataStart + 56),
                               mentioning: ["truncated: tensor 'blk.0.attn_q.weight' data ends at byte \(dataStart + 68) but the file has \(dataStart + 56) bytes"])
    }

    @Test func unknownTypeID() throws {
        var raw = RawGGUF(tensorCount: 1, keyCount: 0)
        raw.tensorInfo("w", dimensions: [32], typeID: 4, offset: 0)
        raw.pad()
        raw.zeros(64)
        try expectOpeningFails(raw.bytes, named: "type4.gguf", .unknownType(tensor: "w", typeID: 4),
                               mentioning: ["unknown ggml type id 4"])
    }

    @Test func unsupportedTypeIsNamedWhenDequantizing() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "w", dimensions: [256], type: .q2_K, bytes: [UInt8](repeating: 0, count: 84))
        let file = try openWritten(writer, named: "q2k.gguf")
        let error = try #require(throws: GGUFError.self) { try file.dequantize(file.tensorInfo(named: "w")) }
        #expect(error.kind == .unsupportedType(tensor: "w", type: .q2_K))
        #expect(error.description.contains("q2k.gguf"))
        #expect(error.description.contains("Q2_K (10) is not supported for dequantization; supported: F32, F16, Q4_0"))
    }

    @Test func misalignedOffset() throws {
        var raw = RawGGUF(tensorCount: 1, keyCount: 0)
        raw.tensorInfo("w", dimensions: [4], typeID: 0, offset: 8)
        raw.pad()
        raw.zeros(64)
        try expectOpeningFails(raw.bytes, named: "misaligned.gguf",
                               .misalignedOffset(tensor: "w", offset: 8, alignment: 32), mentioning: ["alignment 32"])
    }

    @Test func invalidAlignment() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 1)
        raw.keyU32("general.alignment", 48)
        try expectOpeningFails(raw.bytes, named: "align48.gguf", .invalidAlignment("48 is not a power of two"))
    }

    @Test func duplicateKey() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 2)
        raw.keyU32("llama.block_count", 30)
        raw.keyU32("llama.block_count", 31)
        try expectOpeningFails(raw.bytes, named: "dupkey.gguf", .duplicateKey("llama.block_count"),
                               offset: 24 + 8 + 17 + 8)
    }

    @Test func duplicateTensorName() throws {
        var raw = RawGGUF(tensorCount: 2, keyCount: 0)
        raw.tensorInfo("w", dimensions: [4], typeID: 0, offset: 0)
        raw.tensorInfo("w", dimensions: [4], typeID: 0, offset: 32)
        raw.pad()
        raw.zeros(64)
        try expectOpeningFails(raw.bytes, named: "duptensor.gguf", .duplicateTensor("w"))
    }

    @Test func tooManyDimensions() throws {
        var raw = RawGGUF(tensorCount: 1, keyCount: 0)
        raw.tensorInfo("w", dimensions: [1, 1, 1, 1, 1], typeID: 0, offset: 0)
        raw.pad()
        raw.zeros(32)
        try expectOpeningFails(raw.bytes, named: "5d.gguf", .tooManyDimensions(tensor: "w", count: 5))
    }

    @Test func elementCountOverflow() throws {
        var raw = RawGGUF(tensorCount: 1, keyCount: 0)
        raw.tensorInfo("w", dimensions: [1 << 32, 1 << 32], typeID: 0, offset: 0)
        try expectOpeningFails(raw.bytes, named: "overflow.gguf", .sizeOverflow(tensor: "w"))
    }

    @Test func rowNotDivisibleByTheBlockSize() throws {
        var raw = RawGGUF(tensorCount: 1, keyCount: 0)
        raw.tensorInfo("w", dimensions: [16, 2], typeID: 8, offset: 0)
        try expectOpeningFails(raw.bytes, named: "ne0.gguf", .rowNotDivisible(tensor: "w", type: .q8_0, rowLength: 16),
                               mentioning: ["ne0 = 16 is not a multiple of the Q8_0 block size 32"])
    }

    @Test func invalidBoolAndValueType() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 1)
        raw.string("flag")
        raw.u32(7)
        raw.u8(2)
        try expectOpeningFails(raw.bytes, named: "bool.gguf", .invalidBool(key: "flag", byte: 2))
        var badType = RawGGUF(tensorCount: 0, keyCount: 1)
        badType.string("k")
        badType.u32(13)
        badType.zeros(8)
        try expectOpeningFails(badType.bytes, named: "type13.gguf", .invalidValueType(key: "k", typeID: 13))
    }

    @Test func deeplyNestedArraysAreRejected() throws {
        var raw = RawGGUF(tensorCount: 0, keyCount: 1)
        raw.string("deep")
        raw.u32(9)
        for _ in 0 ..< 1000 {
            raw.u32(9)
            raw.u64(1)
        }
        try expectOpeningFails(raw.bytes, named: "deep.gguf", .nestingTooDeep(key: "deep"))
    }

    @Test func missingFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).gguf")
        let error = try #require(throws: GGUFError.self) { try GGUFFile(contentsOf: url) }
        #expect(error.description.contains(url.lastPathComponent))
    }

    // MARK: Lookups

    func smallFile() throws -> GGUFFile {
        var writer = GGUFWriter()
        writer.setValue(.string("llama"), forKey: "general.architecture")
        writer.setValue(.uint32(30), forKey: "llama.block_count")
        try writer.addTensor(name: "w", dimensions: [4, 2], type: .f32, bytes: GGUFWriter.bytes(of: Array(repeating: 1, count: 8)))
        return try openWritten(writer, named: "lookups.gguf")
    }

    @Test func missingTensor() throws {
        let file = try smallFile()
        let error = try #require(throws: GGUFError.self) { try file.tensorInfo(named: "output.weight") }
        #expect(error.kind == .missingTensor("output.weight"))
        #expect(error.description.hasSuffix("lookups.gguf: no tensor named 'output.weight'"))
        #expect(file.tensorInfoIfPresent(named: "output.weight") == nil)
    }

    @Test func shapeMismatch() throws {
        let file = try smallFile()
        #expect(try file.requireShape("w", [4, 2]).name == "w")
        let error = try #require(throws: GGUFError.self) { try file.requireShape("w", [2, 4]) }
        #expect(error.kind == .shapeMismatch(tensor: "w", expected: [2, 4], actual: [4, 2]))
        #expect(error.description.contains("lookups.gguf"))
    }

    @Test func missingKeyAndWrongKeyType() throws {
        let metadata = try smallFile().metadata
        let missing = try #require(throws: GGUFError.self) { try metadata.int("llama.embedding_length") }
        #expect(missing.kind == .missingKey("llama.embedding_length"))
        #expect(missing.description.contains("lookups.gguf"))
        let wrong = try #require(throws: GGUFError.self) { try metadata.string("llama.block_count") }
        #expect(wrong.kind == .wrongKeyType(key: "llama.block_count", expected: "a string", actual: "u32"))
        #expect(wrong.description.contains("lookups.gguf: metadata key 'llama.block_count' holds u32 but a string was expected"))
        #expect(throws: GGUFError.self) { try metadata.intIfPresent("general.architecture") }
        #expect(throws: GGUFError.self) { try metadata.strings("general.architecture") }
    }

    @Test func unsupportedArchitectureNamesTheFile() throws {
        let error = GGUFError.unsupportedArchitecture("mamba", path: "/models/m.gguf")
        #expect(error.description == "/models/m.gguf: unsupported architecture 'mamba'")
        let file = try smallFile()
        #expect(file.error(.unsupportedArchitecture("mamba")).description.hasSuffix("lookups.gguf: unsupported architecture 'mamba'"))
    }
}
