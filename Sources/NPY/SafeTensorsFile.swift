import Foundation

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the raw little-endian data. Written so `safetensors.numpy.load_file`
/// (or `torch`) reads it as it is.
public struct SafeTensorsFile: Sendable {
    public var tensors: [(name: String, array: NPYArray)]
    public var metadata: [String: String]

    public init(tensors: [(String, NPYArray)], metadata: [String: String] = [:]) {
        self.tensors = tensors.map { (name: $0.0, array: $0.1) }
        self.metadata = metadata
    }

    static func dtype(_ element: NPYElement) -> String {
        switch element {
        case .float32: "F32"
        case .float64: "F64"
        case .int32: "I32"
        case .int64: "I64"
        }
    }

    /// The file's bytes; the header is padded with spaces so the data starts 8-byte aligned.
    public func encoded() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, array) in tensors {
            let size = array.values.count * array.element.size
            header[name] = ["dtype": Self.dtype(array.element), "shape": array.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.reserveCapacity(data.count + offset)
        for (_, array) in tensors {
            // The NPY encoder already lays out little-endian values; reuse it without its header.
            let encoded = array.encoded()
            data.append(encoded.suffix(array.values.count * array.element.size))
        }
        return data
    }

    public func write(to url: URL) throws {
        try encoded().write(to: url, options: .atomic)
    }
}
