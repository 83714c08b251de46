import GGUF

/// Float32 values in one allocation that never moves or changes after init, so kernels can
/// hold its address across a whole block.
final class FloatStorage: @unchecked Sendable {
    // Written only in init; read-only afterwards.
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(1, count))
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    deinit { pointer.deallocate() }
}

/// A linear layer's weight `[rows = outputs][columns = inputs]`, row-major as GGUF stores it:
/// either Float32 or its file blocks (several tensors stacked by rows, as for the fused Q|K|V,
/// whose parts may use different block types).
struct WeightMatrix: Sendable {
    enum Storage: Sendable {
        case dense(FloatStorage)
        case quantized([QuantizedRows])
    }

    let storage: Storage
    let rowCount: Int
    let columnCount: Int

    init(dense values: [Float], columns: Int) {
        storage = .dense(FloatStorage(values))
        columnCount = columns
        rowCount = values.count / columns
    }

    /// `parts` stacked in order; each must have `columns` values per row.
    init(stacking parts: [QuantizedRows], columns: Int) {
        precondition(parts.allSatisfy { $0.rowLength == columns }, "WeightMatrix: parts of different widths")
        storage = .quantized(parts)
        columnCount = columns
        rowCount = parts.reduce(0) { $0 + $1.rowCount }
    }

    /// Loads `tensors` stacked by rows (each already checked to have `columns` values per row).
    init(gguf: GGUFFile, stacking tensors: [GGUFTensorInfo], columns: Int, residency: WeightResidency) throws {
        switch residency {
        case .dense:
            self.init(dense: try tensors.flatMap { try gguf.dequantize($0) }, columns: columns)
        case .quantized:
            self.init(stacking: try tensors.map { try gguf.quantizedRows($0) }, columns: columns)
        }
    }

    var isQuantized: Bool {
        if case .quantized = storage { return true }
        return false
    }

    var elementCount: Int { rowCount * columnCount }

    /// Bytes this matrix holds (for a quantized one: the file blocks it reads).
    var byteCount: Int {
        switch storage {
        case .dense(let values): values.count * MemoryLayout<Float>.size
        case .quantized(let parts): parts.reduce(0) { $0 + $1.byteCount }
        }
    }

    /// The Float32 values when dense, else `nil`.
    var densePointer: UnsafePointer<Float>? {
        if case .dense(let values) = storage { return UnsafePointer(values.pointer) }
        return nil
    }

    /// Writes rows `rows` as Float32 to `output` (`rows.count × columnCount` floats), on the
    /// calling thread. Exactly the values the dense matrix holds.
    func dequantize(rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "WeightMatrix: rows \(rows) outside 0..<\(rowCount)")
        switch storage {
        case .dense(let values):
            output.update(from: values.pointer + rows.lowerBound * columnCount, count: rows.count * columnCount)
        case .quantized(let parts):
            var partStart = 0
            for part in parts {
                let partRows = partStart ..< partStart + part.rowCount
                let overlap = rows.clamped(to: partRows)
                if !overlap.isEmpty {
                    part.dequantize(rows: (overlap.lowerBound - partStart) ..< (overlap.upperBound - partStart),
                                    into: output + (overlap.lowerBound - rows.lowerBound) * columnCount)
                }
                partStart = partRows.upperBound
            }
        }
    }
}

/// Where a block's matrices are read from during one pass: the dense storage itself, or a
/// scratch buffer the quantized matrices were just dequantized into.
struct BlockMatrices {
    let qkv: UnsafePointer<Float>
    let attentionOutput: UnsafePointer<Float>
    let gateUp: UnsafePointer<Float>
    let down: UnsafePointer<Float>
}

/// Scratch room for the quantized matrices of one block, reused block after block.
final class DequantizationScratch {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int

    /// Room for `capacity` floats; none is allocated for 0.
    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: max(1, capacity))
    }

    deinit { pointer.deallocate() }
}

extension BlockWeights {
    var matrices: [WeightMatrix] { [qkv, attentionOutput, gateUp, down] }

    /// Floats of scratch the block's quantized matrices need (0 when all are dense).
    var scratchElements: Int { matrices.filter(\.isQuantized).reduce(0) { $0 + $1.elementCount } }

    /// Pointers to the block's Float32 matrices. Quantized ones are first dequantized whole into
    /// `scratch`, each worker a contiguous share of their rows; the GEMMs that follow then read
    /// the same values, through the same calls, as with dense storage.
    func resolveMatrices(scratch: DequantizationScratch?, workers: Int) -> BlockMatrices {
        var pointers: [UnsafePointer<Float>] = []
        var jobs: [(matrix: WeightMatrix, output: UnsafeMutablePointer<Float>)] = []
        var offset = 0
        for matrix in matrices {
            if let dense = matrix.densePointer {
                pointers.append(dense)
            } else {
                guard let scratch, offset + matrix.elementCount <= scratch.capacity else {
                    preconditionFailure("resolveMatrices: scratch too small for a quantized block")
                }
                let output = scratch.pointer + offset
                jobs.append((matrix, output))
                pointers.append(UnsafePointer(output))
                offset += matrix.elementCount
            }
        }
        if !jobs.isEmpty {
            // One parallel phase for all of the block's matrices: every worker converts its share
            // of each matrix's rows (converters are per row, so the split changes no value).
            forEachWorker(workers) { worker in
                for job in jobs {
                    let rows = share(of: job.matrix.rowCount, worker: worker, workers: workers)
                    job.matrix.dequantize(rows: rows, into: job.output + rows.lowerBound * job.matrix.columnCount)
                }
            }
        }
        return BlockMatrices(qkv: pointers[0], attentionOutput: pointers[1], gateUp: pointers[2], down: pointers[3])
    }
}
