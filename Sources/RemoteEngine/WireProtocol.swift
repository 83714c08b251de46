import Foundation

/// The worker protocol, version ``WireProtocol/version``: one request, then one response, over the
/// worker's stdin and stdout. Every message is one frame:
///
/// ```
/// "RBW1" | u32 header length | header (UTF-8 JSON) | u64 payload length | payload
/// ```
///
/// (integers little-endian). The header is `{"op": …, "args": {…}, "arrays": [{"name", "dtype", "shape"}…]}`
/// for a request and `{"ok": true, "result": {…}, "arrays": […]}` or `{"ok": false, "error": {"kind", "message"}}`
/// for a response; the payload is the listed arrays' bytes back to back (`f32` or `i32`, little-endian,
/// row-major). Numbers that matter travel in the payload, never as JSON numbers. The first request is
/// `hello`, whose response names the protocol version the worker speaks; a mismatch ends the session.
/// `docs/engines.md` lists the operations.
public enum WireProtocol {
    public static let version = 1
    static let magic: [UInt8] = Array("RBW1".utf8)
    /// Bounds what a header may claim before anything is allocated.
    static let maximumHeaderBytes = 16 << 20
    static let maximumPayloadBytes: UInt64 = 64 << 30
}

/// A JSON value of a frame's header.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int? { if case .number(let n) = self, n == n.rounded(), abs(n) < 9e15 { Int(n) } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

    public static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .number(Double($0)) }) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

/// One array of a frame's payload.
public struct WireArray: Sendable, Equatable {
    public enum DType: String, Sendable { case f32, i32 }

    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Little-endian bytes, `shape.product × 4`.
    public var bytes: Data

    public init(name: String, floats: [Float], shape: [Int]) {
        self.name = name
        dtype = .f32
        self.shape = shape
        bytes = floats.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian hosts only (x86-64, arm64)
    }

    public init(name: String, ints: [Int], shape: [Int]) {
        self.name = name
        dtype = .i32
        self.shape = shape
        bytes = ints.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    init(name: String, dtype: DType, shape: [Int], bytes: Data) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var elementCount: Int { shape.reduce(1, *) }

    public var floats: [Float] {
        bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
    }

    public var ints: [Int] {
        bytes.withUnsafeBytes { raw in raw.bindMemory(to: Int32.self).map(Int.init) }
    }

    var descriptor: JSONValue { ["name": .string(name), "dtype": .string(dtype.rawValue), "shape": .ints(shape)] }
}

/// A decoded frame.
public struct WireMessage: Sendable {
    public var header: JSONValue
    public var arrays: [WireArray]

    public func array(_ name: String) -> WireArray? { arrays.first { $0.name == name } }
}

/// What went wrong talking to a worker; each case says what to do.
public enum WorkerError: Error, CustomStringConvertible, Equatable {
    /// The worker could not be started (missing interpreter or script).
    case launch(String)
    /// The worker sent something that is not a frame of this protocol, or ended the stream.
    case protocolViolation(String)
    /// The worker speaks another protocol version.
    case versionMismatch(worker: Int, client: Int)
    /// The worker answered the request with an error.
    case remote(kind: String, message: String)

    public var description: String {
        switch self {
        case .launch(let reason): "engine worker: cannot start: \(reason)"
        case .protocolViolation(let reason): "engine worker: protocol violation: \(reason)"
        case .versionMismatch(let worker, let client):
            "engine worker speaks protocol version \(worker), this rbench speaks \(client); update the worker script with the rbench build (`make engines`)"
        case .remote(let kind, let message): "engine worker: \(kind): \(message)"
        }
    }
}

enum Frame {
    /// The bytes of one frame.
    static func encode(header: JSONValue, arrays: [WireArray]) throws -> (head: Data, payloads: [Data]) {
        var fields: [String: JSONValue] = [:]
        if case .object(let given) = header { fields = given }
        fields["arrays"] = .array(arrays.map(\.descriptor))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(JSONValue.object(fields))
        var head = Data(WireProtocol.magic)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { head.append(contentsOf: $0) }
        head.append(json)
        let payload = arrays.reduce(0) { $0 + UInt64($1.bytes.count) }
        withUnsafeBytes(of: payload.littleEndian) { head.append(contentsOf: $0) }
        return (head, arrays.map(\.bytes))
    }

    /// Reads one frame with `read(n)`, which returns exactly `n` bytes or fewer at the end of the stream.
    static func decode(_ read: (Int) throws -> Data) throws -> WireMessage {
        func exactly(_ n: Int, _ what: String) throws -> Data {
            let data = try read(n)
            guard data.count == n else {
                throw WorkerError.protocolViolation("the stream ended inside the \(what) (\(data.count) of \(n) bytes)")
            }
            return data
        }
        let magic = try read(4)
        guard !magic.isEmpty else { throw WorkerError.protocolViolation("the worker closed its output (it exited or crashed)") }
        guard Array(magic) == WireProtocol.magic else {
            throw WorkerError.protocolViolation("a frame starts with \(Array(magic)), not \"RBW1\" (is something else printing to the worker's stdout?)")
        }
        let headerLength = Int(try exactly(4, "header length").withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian })
        guard headerLength <= WireProtocol.maximumHeaderBytes else {
            throw WorkerError.protocolViolation("a header of \(headerLength) bytes is over the \(WireProtocol.maximumHeaderBytes)-byte bound")
        }
        let headerData = try exactly(headerLength, "header")
        let header: JSONValue
        do { header = try JSONDecoder().decode(JSONValue.self, from: headerData) } catch {
            throw WorkerError.protocolViolation("the header is not JSON: \(error)")
        }
        let payloadLength = try exactly(8, "payload length").withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        var expected: UInt64 = 0
        var descriptors: [(String, WireArray.DType, [Int])] = []
        for item in header["arrays"]?.array ?? [] {
            guard let name = item["name"]?.string, let dtype = item["dtype"]?.string.flatMap(WireArray.DType.init(rawValue:)),
                  let shape = item["shape"]?.array?.compactMap(\.int), shape.allSatisfy({ $0 >= 0 }) else {
                throw WorkerError.protocolViolation("an array descriptor \(item) lacks name, dtype (f32 or i32) or shape")
            }
            let (count, overflow) = shape.reduce((UInt64(1), false)) { acc, n in
                let (p, o) = acc.0.multipliedReportingOverflow(by: UInt64(n))
                return (p, acc.1 || o)
            }
            guard !overflow else { throw WorkerError.protocolViolation("array \(name) has an impossible shape \(shape)") }
            expected += count * 4
            descriptors.append((name, dtype, shape))
        }
        guard payloadLength == expected, payloadLength <= WireProtocol.maximumPayloadBytes else {
            throw WorkerError.protocolViolation("the payload has \(payloadLength) bytes, its arrays need \(expected)")
        }
        var arrays: [WireArray] = []
        for (name, dtype, shape) in descriptors {
            let bytes = try exactly(shape.reduce(1, *) * 4, "payload of \(name)")
            arrays.append(WireArray(name: name, dtype: dtype, shape: shape, bytes: bytes))
        }
        return WireMessage(header: header, arrays: arrays)
    }
}
