/// A matrix kept in its file's block format and dequantized a few rows at a time.
///
/// Large tables such as Gemma 3's 262,144 × 640 token embedding take four times less memory
/// this way than as Float32; a row dequantizes to exactly the values ``GGUFFile/dequantize(_:)``
/// gives for it.
public struct QuantizedRows: Sendable {
    public let type: GGMLType
    /// Values per row (`ne0`).
    public let rowLength: Int
    public let rowCount: Int
    private let bytes: [UInt8]

    /// Bytes of one stored row.
    public var rowByteCount: Int { rowLength / type.blockElements * type.blockBytes }
    /// Bytes held.
    public var byteCount: Int { bytes.count }

    init(type: GGMLType, rowLength: Int, rowCount: Int, bytes: [UInt8]) {
        self.type = type
        self.rowLength = rowLength
        self.rowCount = rowCount
        self.bytes = bytes
    }

    /// Dequantizes rows `rows` into `output` (room for `rows.count × rowLength` floats), on the
    /// calling thread: callers that want parallelism split the rows themselves.
    public func dequantize(rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "QuantizedRows: rows \(rows) outside 0..<\(rowCount)")
        guard !rows.isEmpty else { return }
        let rowBytes = rowByteCount
        bytes.withUnsafeBytes { all in
            let source = UnsafeRawBufferPointer(rebasing: all[rows.lowerBound * rowBytes ..< rows.upperBound * rowBytes])
            Dequantizer.convert(source, type: type, blocks: rows.count * rowLength / type.blockElements,
                                into: output, parallel: false)
        }
    }
}

extension GGUFFile {
    /// A copy of `tensor`'s stored blocks, for row-wise dequantization after the file is closed.
    ///
    /// Throws ``GGUFError/Kind/unsupportedType(tensor:type:)`` for a type with no dequantizer.
    public func quantizedRows(_ tensor: GGUFTensorInfo) throws -> QuantizedRows {
        guard tensor.type.isDequantizable else {
            throw GGUFError(path: path, kind: .unsupportedType(tensor: tensor.name, type: tensor.type))
        }
        return QuantizedRows(type: tensor.type, rowLength: tensor.rowLength, rowCount: tensor.rowCount,
                             bytes: Array(rawBytes(tensor)))
    }
}
