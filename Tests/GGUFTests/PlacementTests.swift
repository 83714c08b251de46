import Foundation
import GGUF
import Testing
import TestSupport

/// Tensor data must lie where ggml places it: in info order, each right after the previous
/// tensor's data padded to the alignment. Overlaps and gaps (e.g. a changed type id) are refused.
@Suite("GGUF tensor placement")
struct PlacementTests {
    /// Two F32 tensors of 8 values (32 bytes each) at the given data-section offsets.
    func twoTensors(secondAt offset: UInt64, firstType: UInt32 = 0, firstDimensions: [UInt64] = [8]) -> [UInt8] {
        var raw = RawGGUF(tensorCount: 2, keyCount: 0)
        raw.tensorInfo("a", dimensions: firstDimensions, typeID: firstType, offset: 0)
        raw.tensorInfo("b", dimensions: [8], typeID: 0, offset: offset)
        raw.pad()
        raw.zeros(256)
        return raw.bytes
    }

    @Test func tensorsWhereGGMLPutsThemOpen() throws {
        let url = try GGUFFixture.write(bytes: twoTensors(secondAt: 32), named: "placed.gguf")
        let file = try GGUFFile(contentsOf: url)
        #expect(file.tensors.map(\.offset) == [file.dataOffset, file.dataOffset + 32])
    }

    @Test func overlappingTensorsAreRefused() throws {
        let error = try #require(try openingError(twoTensors(secondAt: 0), named: "overlap.gguf"))
        #expect(error.kind == .unexpectedOffset(tensor: "b", offset: 0, expected: 32))
        #expect(error.description.contains("overlap.gguf") && error.description.contains("overlap"))
    }

    @Test func aGapIsRefused() throws {
        let error = try #require(try openingError(twoTensors(secondAt: 64), named: "gap.gguf"))
        #expect(error.kind == .unexpectedOffset(tensor: "b", offset: 64, expected: 32))
    }

    @Test("a type id changed from Q8_0 to Q4_0 shrinks the tensor, so the next one is misplaced")
    func changedTypeID() throws {
        // [32, 2] Q8_0 takes 68 bytes (96 padded); as Q4_0 it would take 36 (64 padded).
        var writer = GGUFWriter()
        try writer.addTensor(name: "token_embd.weight", dimensions: [32, 2], type: .q8_0, bytes: [UInt8](repeating: 0, count: 68))
        try writer.addTensor(name: "output_norm.weight", dimensions: [8], type: .f32, bytes: GGUFWriter.bytes(of: Array(repeating: 1, count: 8)))
        var bytes = try writer.encoded()
        #expect(try openingError(bytes, named: "q8.gguf") == nil)
        // The type id follows the name, n_dims and two extents of the first tensor info.
        let name = Array("token_embd.weight".utf8)
        let nameStart = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0 ..< $0 + name.count]) == name })
        let typeAt = nameStart + name.count + 4 + 16
        #expect(bytes[typeAt] == 8)
        bytes[typeAt] = 2
        let error = try #require(try openingError(bytes, named: "q4.gguf"))
        #expect(error.kind == .unexpectedOffset(tensor: "output_norm.weight", offset: 96, expected: 64))
    }
}
