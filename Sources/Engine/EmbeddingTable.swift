import GGUF

/// The token embedding `[vocabulary × width]`, which tied models also use as the unembedding.
///
/// A table of at most ``denseLimitBytes`` in Float32 is dequantized once, like every other
/// weight. A larger one (Gemma 3's 262,144 × 640 would take 640 MiB in Float32) stays in its
/// file format: lookups dequantize the rows they need and logits dequantize tiles of rows
/// before each GEMM. Either way every value is the one a full dequantization gives.
struct EmbeddingTable: Sendable {
    enum Storage: Sendable {
        case dense([Float])
        case quantized(QuantizedRows)
    }

    /// Float32 tables up to this size are held dense.
    static let denseLimitBytes = 256 << 20
    /// Vocabulary rows dequantized per tile when computing logits from a quantized table.
    static let logitTileRows = 4096

    let storage: Storage
    let rowCount: Int
    let rowLength: Int

    init(dense values: [Float], rowLength: Int) {
        storage = .dense(values)
        self.rowLength = rowLength
        rowCount = values.count / rowLength
    }

    /// Loads `tensor`, kept quantized when its Float32 form would exceed `denseLimitBytes`.
    init(gguf: GGUFFile, tensor: GGUFTensorInfo, denseLimitBytes: Int = Self.denseLimitBytes) throws {
        rowLength = tensor.rowLength
        rowCount = tensor.rowCount
        if tensor.elementCount * MemoryLayout<Float>.size > denseLimitBytes, tensor.type != .f32 {
            storage = .quantized(try gguf.quantizedRows(tensor))
        } else {
            storage = .dense(try gguf.dequantize(tensor))
        }
    }

    var isQuantized: Bool {
        if case .quantized = storage { return true }
        return false
    }

    /// Bytes held for the table.
    var byteCount: Int {
        switch storage {
        case .dense(let values): values.count * MemoryLayout<Float>.size
        case .quantized(let rows): rows.byteCount
        }
    }

    /// Writes `scale × row(tokens[r])` to `output + r·rowLength` for every r, split over `workers`.
    func gather(_ tokens: [Int], scale: Float, into output: UnsafeMutablePointer<Float>, workers: Int) {
        let d = rowLength
        switch storage {
        case .dense(let values):
            values.withUnsafeBufferPointer { table in
                forEachWorker(workers) { worker in
                    for r in share(of: tokens.count, worker: worker, workers: workers) {
                        let source = table.baseAddress! + tokens[r] * d, row = output + r * d
                        for i in 0..<d { row[i] = source[i] * scale }
                    }
                }
            }
        case .quantized(let table):
            forEachWorker(workers) { worker in
                for r in share(of: tokens.count, worker: worker, workers: workers) {
                    let row = output + r * d
                    table.dequantize(rows: tokens[r] ..< tokens[r] + 1, into: row)
                    for i in 0..<d { row[i] *= scale }
                }
            }
        }
    }

    /// `output[rows × rowCount] = x[rows × rowLength] · tableᵀ`: one score per row and vocabulary entry.
    func scores(_ x: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        let d = rowLength, v = rowCount
        switch storage {
        case .dense(let values):
            values.withUnsafeBufferPointer { w in
                gemmTransposedB(m: rows, n: v, k: d, a: x, lda: d, b: w.baseAddress!, ldb: d, c: output, ldc: v)
            }
        case .quantized(let table):
            // Tiles are dealt to the engine's workers; each output column comes from one GEMM
            // over the full width, so the result does not depend on the worker count.
            let tiles = (v + Self.logitTileRows - 1) / Self.logitTileRows
            EngineThreads.run { workers in
                let workers = min(workers, tiles)
                forEachWorker(workers) { worker in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Self.logitTileRows * d)
                    defer { scratch.deallocate() }
                    for tile in share(of: tiles, worker: worker, workers: workers) {
                        let first = tile * Self.logitTileRows, count = min(Self.logitTileRows, v - first)
                        table.dequantize(rows: first ..< first + count, into: scratch)
                        gemmTransposedB(m: rows, n: count, k: d, a: x, lda: d, b: scratch, ldb: d,
                                        c: output + first, ldc: v)
                    }
                }
            }
        }
    }
}
