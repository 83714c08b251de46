/// A matrix kept in its file's block format and dequantized a few rows at a time.
///
/// Large matrices such as Gemma 3's 262,144 × 640 token embedding, or every weight of a
/// 1.5B model, take four to seven times less memory this way than as Float32. The rows are
/// read straight from the file's memory mapping, which the value keeps alive; a row
/// dequantizes to exactly the values ``GGUFFile/dequantize(_:)`` gives for it.
public struct QuantizedRows: Sendable {
    public let type: GGMLType
    /// Values per row (`ne0`).
    public let rowLength: Int
    public let rowCount: Int
    private let source: BlockSource

    /// Bytes of one stored row.
    public var rowByteCount: Int { rowLength / type.blockElements * type.blockBytes }
    /// Bytes of stored blocks this matrix reads (they live in the file's mapping).
    public var byteCount: Int { rowCount * rowByteCount }

    init(type: GGMLType, rowLength: Int, rowCount: Int, source: BlockSource) {
        self.type = type
        self.rowLength = rowLength
        self.rowCount = rowCount
        self.source = source
    }

    /// Dequantizes rows `rows` into `output` (room for `rows.count × rowLength` floats), on the
    /// calling thread: callers that want parallelism split the rows themselves.
    public func dequantize(rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "QuantizedRows: rows \(rows) outside 0..<\(rowCount)")
        guard !rows.isEmpty else { return }
        let rowBytes = rowByteCount
        let blocks = UnsafeRawBufferPointer(rebasing: source.bytes[rows.lowerBound * rowBytes ..< rows.upperBound * rowBytes])
        Dequantizer.convert(blocks, type: type, blocks: rows.count * rowLength / type.blockElements,
                            into: output, parallel: false)
    }
}

/// The stored blocks of one tensor inside a file mapping, which it keeps mapped.
final class BlockSource: @unchecked Sendable {
    // Immutable after init; the mapping is read-only.
    private let mapping: MappedFile
    let bytes: UnsafeRawBufferPointer

    init(mapping: MappedFile, bytes: UnsafeRawBufferPointer) {
        self.mapping = mapping
        self.bytes = bytes
    }
}

extension GGUFFile {
    /// `tensor`'s stored blocks for row-wise dequantization; valid after this file object is
    /// released (the mapping stays alive as long as the returned value). Nothing is copied:
    /// only the pages that are read become resident.
    ///
    /// Throws ``GGUFError/Kind/unsupportedType(tensor:type:)`` for a type with no dequantizer.
    public func quantizedRows(_ tensor: GGUFTensorInfo) throws -> QuantizedRows {
        guard tensor.type.isDequantizable else {
            throw GGUFError(path: path, kind: .unsupportedType(tensor: tensor.name, type: tensor.type))
        }
        return QuantizedRows(type: tensor.type, rowLength: tensor.rowLength, rowCount: tensor.rowCount,
                             source: BlockSource(mapping: mapping, bytes: rawBytes(tensor)))
    }
}
