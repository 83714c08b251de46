import Foundation

/// A GGUF v2/v3 model file, memory-mapped and validated when opened.
///
/// Opening parses the header, metadata and tensor infos and checks that every tensor's
/// data lies inside the file; tensor data is read lazily through the mapping.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: url)
/// let layers = try file.metadata.int("llama.block_count")
/// let embedding = try file.tensorInfo(named: "token_embd.weight")
/// let weights = try file.dequantize(embedding)          // ne0 fastest
/// ```
///
/// The object is immutable after `init` and safe to share between threads.
public final class GGUFFile: @unchecked Sendable {
    /// The file's location.
    public let url: URL
    /// The header version, 2 or 3.
    public let version: UInt32
    /// The key-value metadata.
    public let metadata: GGUFMetadata
    /// The tensor infos, in file order, with absolute offsets.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment: `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// The absolute byte offset of the data section.
    public let dataOffset: Int

    let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and validates the file at `url`; throws ``GGUFError``.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let mapping = try MappedFile(path: path)
        var parser = GGUFParser(bytes: mapping.bytes, path: path)
        let header = try parser.parseHeader()
        self.url = url
        self.mapping = mapping
        self.version = header.version
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.alignment = header.alignment
        self.dataOffset = header.dataOffset
        var index: [String: Int] = [:]
        index.reserveCapacity(header.tensors.count)
        for (position, info) in header.tensors.enumerated() { index[info.name] = position }
        self.tensorIndex = index
    }

    /// The size of the file in bytes.
    public var fileSize: Int { mapping.bytes.count }

    /// The path used in error messages.
    var path: String { url.path }

    /// An error about this file, for checks made outside this module.
    ///
    /// ```swift
    /// throw file.error(.unsupportedArchitecture(architecture))
    /// ```
    public func error(_ kind: GGUFError.Kind, offset: Int? = nil) -> GGUFError {
        GGUFError(path: path, offset: offset, kind: kind)
    }

    /// The info of the tensor called `name`; throws ``GGUFError/Kind/missingTensor(_:)``.
    public func tensorInfo(named name: String) throws -> GGUFTensorInfo {
        guard let position = tensorIndex[name] else {
            throw GGUFError(path: path, kind: .missingTensor(name))
        }
        return tensors[position]
    }

    /// The info of the tensor called `name`, or nil.
    public func tensorInfoIfPresent(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The info of the tensor called `name`, checked to have exactly `dimensions`
    /// (`ne0` first); throws ``GGUFError/Kind/missingTensor(_:)`` or
    /// ``GGUFError/Kind/shapeMismatch(tensor:expected:actual:)``.
    @discardableResult
    public func requireShape(_ name: String, _ dimensions: [Int]) throws -> GGUFTensorInfo {
        let info = try tensorInfo(named: name)
        guard info.dimensions == dimensions else {
            throw GGUFError(path: path, kind: .shapeMismatch(tensor: name, expected: dimensions, actual: info.dimensions))
        }
        return info
    }

    /// The tensor's stored bytes, valid while this file object lives.
    public func rawBytes(_ tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= 0 && tensor.offset + tensor.byteCount <= fileSize,
                     "tensor '\(tensor.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.offset ..< tensor.offset + tensor.byteCount])
    }

    /// The whole tensor as Float32, `ne0` fastest; throws
    /// ``GGUFError/Kind/unsupportedType(tensor:type:)`` for types that cannot be dequantized.
    public func dequantize(_ tensor: GGUFTensorInfo) throws -> [Float] {
        try checkDequantizable(tensor)
        let count = tensor.elementCount
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            Dequantizer.convert(rawBytes(tensor), type: tensor.type, blocks: count / tensor.type.blockElements,
                                into: buffer.baseAddress!, parallel: true)
            initialized = count
        }
    }

    /// Dequantizes rows `rows` (each `ne0` = ``GGUFTensorInfo/rowLength`` floats) into the
    /// start of `output`, which must hold at least `rows.count × ne0` floats.
    ///
    /// Useful for embedding lookups in a large quantized `token_embd`.
    public func dequantizeRows(_ tensor: GGUFTensorInfo, rows: Range<Int>,
                               into output: UnsafeMutableBufferPointer<Float>) throws {
        try checkDequantizable(tensor)
        let rowLength = tensor.rowLength
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount,
              output.count >= rows.count * rowLength else {
            throw GGUFError(path: path, kind: .invalidRowRange(tensor: tensor.name, rows: rows,
                                                                rowCount: tensor.rowCount, outputCount: output.count))
        }
        guard !rows.isEmpty, rowLength > 0 else { return }
        let rowBytes = tensor.rowByteCount
        let source = UnsafeRawBufferPointer(rebasing: rawBytes(tensor)[rows.lowerBound * rowBytes ..< rows.upperBound * rowBytes])
        Dequantizer.convert(source, type: tensor.type, blocks: rows.count * rowLength / tensor.type.blockElements,
                            into: output.baseAddress!, parallel: rows.count > 64)
    }

    private func checkDequantizable(_ tensor: GGUFTensorInfo) throws {
        guard tensor.type.isDequantizable else {
            throw GGUFError(path: path, kind: .unsupportedType(tensor: tensor.name, type: tensor.type))
        }
    }
}
