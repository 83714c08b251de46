@testable import Engine
import Foundation
import GGUF
import Testing
import TestSupport

@Suite("Embedding table kept quantized")
struct EmbeddingTableTests {
    /// A Q8_0 `[rows × 64]` table with seeded scales and quants, written to a GGUF fixture.
    static func q8Table(rows: Int, width: Int = 64) throws -> (GGUFFile, GGUFTensorInfo) {
        var bytes: [UInt8] = []
        var state: UInt32 = 12345
        func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state >> 8 }
        for _ in 0 ..< rows * width / 32 {
            let scale = Float16(Float(next() % 1000 + 1) / 40_000)
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { bytes += $0 }
            for _ in 0..<32 { bytes.append(UInt8(truncatingIfNeeded: Int8(truncatingIfNeeded: Int(next() % 255) - 127))) }
        }
        var writer = GGUFWriter()
        try writer.addTensor(name: "token_embd.weight", dimensions: [width, rows], type: .q8_0, bytes: bytes)
        let file = try GGUFFile(contentsOf: GGUFFixture.write(writer, named: "embedding-q8.gguf"))
        return (file, try file.tensorInfo(named: "token_embd.weight"))
    }

    @Test("lookups from the quantized table equal the dense table's bit for bit, and its tiled logits agree")
    func quantizedMatchesDense() throws {
        let rows = 10_000, width = 64  // more rows than one logit tile, and not a multiple of it
        let (file, info) = try Self.q8Table(rows: rows, width: width)
        let dense = try EmbeddingTable(gguf: file, tensor: info, denseLimitBytes: .max)
        let quantized = try EmbeddingTable(gguf: file, tensor: info, denseLimitBytes: 0)
        #expect(!dense.isQuantized && quantized.isQuantized)
        #expect(quantized.byteCount * 3 < dense.byteCount)

        let tokens = [0, 1, 4095, 4096, 9_999, 17, 17]
        var a = [Float](repeating: .nan, count: tokens.count * width), b = a
        a.withUnsafeMutableBufferPointer { dense.gather(tokens, scale: 1.5, into: $0.baseAddress!, workers: 2) }
        b.withUnsafeMutableBufferPointer { quantized.gather(tokens, scale: 1.5, into: $0.baseAddress!, workers: 2) }
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))

        var scoresDense = [Float](repeating: .nan, count: tokens.count * rows), scoresQuantized = scoresDense
        a.withUnsafeBufferPointer { x in
            scoresDense.withUnsafeMutableBufferPointer { dense.scores(x.baseAddress!, rows: tokens.count, into: $0.baseAddress!) }
            scoresQuantized.withUnsafeMutableBufferPointer { quantized.scores(x.baseAddress!, rows: tokens.count, into: $0.baseAddress!) }
        }
        #expect(scoresQuantized.allSatisfy { $0.isFinite })
        // Each score is one dot product of length `width`; tiling changes the GEMM's blocking, which
        // OpenBLAS's Zen kernels round differently (1.06e-5 measured; bitwise with Cooperlake's), so
        // float32 rounding agreement is what is required: a few ε·√width.
        let worst = zip(scoresDense, scoresQuantized).map { abs($0 - $1) / max(1, abs($0)) }.max()!
        #expect(worst < 1e-4)
    }
}
