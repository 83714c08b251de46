import Foundation

/// Writes small GGUF v3 files from metadata and raw tensor bytes; meant for tests and tools.
///
/// Tensors are laid out in the order they were added, each at the next multiple of the
/// alignment, as ggml does. The writer does not quantize: pass the bytes of whole blocks.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.setValue(.string("llama"), forKey: "general.architecture")
/// try writer.addTensor(name: "norm.weight", dimensions: [4], type: .f32, bytes: GGUFWriter.bytes(of: [1, 2, 3, 4]))
/// try writer.write(to: url)
/// ```
public struct GGUFWriter: Sendable {
    /// A problem with what was handed to the writer.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    private struct Tensor: Sendable {
        var name: String
        var dimensions: [Int]
        var type: GGMLType
        var bytes: [UInt8]
    }

    /// The data alignment; a value other than 32 is recorded as `general.alignment`.
    public let alignment: Int
    private var entries: [(key: String, value: GGUFValue)] = []
    private var tensors: [Tensor] = []

    /// Creates an empty writer; `alignment` must be a power of two.
    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
    }

    /// Sets `key` to `value`, keeping the key's first position if it was set before.
    public mutating func setValue(_ value: GGUFValue, forKey key: String) {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
    }

    /// Adds a tensor whose `bytes` are exactly the encoded blocks for `dimensions` (`ne0` first).
    public mutating func addTensor(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) throws {
        guard !tensors.contains(where: { $0.name == name }) else {
            throw Failure(description: "tensor '\(name)' was added twice")
        }
        guard dimensions.count <= 4, dimensions.allSatisfy({ $0 >= 0 }) else {
            throw Failure(description: "tensor '\(name)': dimensions \(dimensions) must be 0 to 4 non-negative extents")
        }
        let elements = dimensions.reduce(1, *)
        guard (dimensions.first ?? 1) % type.blockElements == 0, let expected = type.byteCount(forElements: elements),
              expected == bytes.count else {
            throw Failure(description: "tensor '\(name)': \(bytes.count) bytes do not encode \(dimensions) elements of \(type)")
        }
        tensors.append(Tensor(name: name, dimensions: dimensions, type: type, bytes: bytes))
    }

    /// The encoded file.
    public func encoded() throws -> [UInt8] {
        var out: [UInt8] = []
        var metadata = entries
        if alignment != 32, !metadata.contains(where: { $0.key == "general.alignment" }) {
            metadata.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        append(UInt32(0x4655_4747), to: &out)
        append(UInt32(3), to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            append(key, to: &out)
            append(value.typeID, to: &out)
            try append(value, key: key, to: &out)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset = padded(offset + tensor.bytes.count)
        }
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            append(tensor.name, to: &out)
            append(UInt32(tensor.dimensions.count), to: &out)
            for extent in tensor.dimensions { append(UInt64(extent), to: &out) }
            append(tensor.type.rawValue, to: &out)
            append(UInt64(tensorOffset), to: &out)
        }
        out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        for tensor in tensors {
            out.append(contentsOf: tensor.bytes)
            out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
        }
        return out
    }

    /// Writes the encoded file to `url`, replacing any file there.
    public func write(to url: URL) throws {
        try Data(encoded()).write(to: url)
    }

    /// The little-endian bytes of Float32 values, for F32 tensors.
    public static func bytes(of values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    // MARK: Encoding

    private func padded(_ position: Int) -> Int {
        position + (alignment - position % alignment) % alignment
    }

    private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private func append(_ string: String, to out: inout [UInt8]) {
        append(UInt64(string.utf8.count), to: &out)
        out.append(contentsOf: string.utf8)
    }

    private func append(_ value: GGUFValue, key: String, to out: inout [UInt8]) throws {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array(let elements):
            let elementType = elements.first?.typeID ?? 0
            guard elements.allSatisfy({ $0.typeID == elementType }) else {
                throw Failure(description: "metadata key '\(key)': array elements must all have one type")
            }
            append(elementType, to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { try append(element, key: key, to: &out) }
        }
    }
}
