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
        // Each score is one dot product of length `width`. Tiling (and OpenBLAS's own threading of
        // the dense GEMM) changes the summation order, so both are held to rounding-level agreement
        // with the exact Float64 dot product, relative to Σ|aᵢ·bᵢ| (scores can cancel to near 0).
        var table = [Float](repeating: 0, count: rows * width)
        table.withUnsafeMutableBufferPointer { dense.gather(Array(0..<rows), scale: 1, into: $0.baseAddress!, workers: 1) }
        var worst = 0.0
        for r in tokens.indices {
            for v in 0..<rows {
                var exact = 0.0, magnitude = 0.0
                for i in 0..<width {
                    let product = Double(a[r * width + i]) * Double(table[v * width + i])
                    exact += product
                    magnitude += abs(product)
                }
                for score in [scoresDense[r * rows + v], scoresQuantized[r * rows + v]] {
                    worst = max(worst, abs(Double(score) - exact) / max(magnitude, .leastNormalMagnitude))
                }
            }
        }
        #expect(worst < 1e-6, "worst error relative to Σ|aᵢ·bᵢ|: \(worst)")
    }
}
