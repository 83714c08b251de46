import Foundation

/// Errors reading a `.npy` file; each names the file.
public struct NPYError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): not a readable .npy file: \(reason)" }
}

/// Element types this module reads and writes.
public enum NPYElement: String, Sendable {
    case float32 = "<f4"
    case float64 = "<f8"
    case int32 = "<i4"
    case int64 = "<i8"

    var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}

/// A NumPy array held as Float32 or integer values, C order.
///
/// Reads the version 1.0–3.0 `.npy` format for little-endian float32/float64/int32/int64;
/// writes version 1.0 files that `numpy.load` opens as they are.
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var element: NPYElement
    /// Values converted to Double (exact for every supported type up to 2^53).
    public var values: [Double]

    public init(shape: [Int], element: NPYElement, values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "NPYArray: shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.element = element
        self.values = values
    }

    /// Float32 array from Float values.
    public init(shape: [Int], float32 values: [Float]) {
        self.init(shape: shape, element: .float32, values: values.map(Double.init))
    }

    public var floats: [Float] { values.map(Float.init) }

    /// Reads a `.npy` file.
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data = try Data(contentsOf: url)
        func fail(_ reason: String) -> NPYError { NPYError(file: file, reason: reason) }
        guard data.count >= 10, data.prefix(6) == Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else {
            throw fail("missing the \\x93NUMPY magic")
        }
        let major = data[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= data.count,
              let header = String(data: data[headerStart ..< headerStart + headerLength], encoding: .utf8) else {
            throw fail("truncated or non-text header")
        }
        guard let descr = Self.field("descr", in: header), let element = NPYElement(rawValue: descr) else {
            throw fail("unsupported dtype in header \(header)")
        }
        guard Self.field("fortran_order", in: header) == "False" else { throw fail("Fortran order is not supported") }
        guard let shapeText = Self.shapeText(in: header) else { throw fail("no shape in header") }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = headerStart + headerLength
        guard data.count - body == count * element.size else {
            throw fail("shape \(shape) needs \(count * element.size) bytes of data, file has \(data.count - body)")
        }
        var values = [Double](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + body
            for i in 0..<count {
                let p = base + i * element.size
                switch element {
                case .float32: values[i] = Double(Float(bitPattern: p.loadUnaligned(as: UInt32.self).littleEndian))
                case .float64: values[i] = Double(bitPattern: p.loadUnaligned(as: UInt64.self).littleEndian)
                case .int32: values[i] = Double(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
                case .int64: values[i] = Double(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
                }
            }
        }
        self.init(shape: shape, element: element, values: values)
    }

    /// The shape and element type a `.npy` file declares, read from its header alone; checks the
    /// file holds exactly the bytes they need. Throws ``NPYError`` naming the file.
    public static func header(of url: URL) throws -> (shape: [Int], element: NPYElement) {
        let file = url.path
        func fail(_ reason: String) -> NPYError { NPYError(file: file, reason: reason) }
        guard let handle = FileHandle(forReadingAtPath: file) else { throw fail("cannot be opened (missing, or no permission)") }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: 12)) ?? Data()
        guard prefix.count >= 10, prefix.prefix(6) == Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) else {
            throw fail("missing the \\x93NUMPY magic")
        }
        let major = prefix[prefix.startIndex + 6]
        let headerStart = major == 1 ? 10 : 12
        guard major >= 1, major <= 3, prefix.count >= headerStart else { throw fail("unsupported format version \(major)") }
        let b = Array(prefix)
        let headerLength = major == 1 ? Int(b[8]) | Int(b[9]) << 8 : Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
        guard headerLength < 1 << 20 else { throw fail("header length \(headerLength) is implausible") }
        try? handle.seek(toOffset: UInt64(headerStart))
        guard let headerData = try? handle.read(upToCount: headerLength), headerData.count == headerLength,
              let header = String(data: headerData, encoding: .utf8) else { throw fail("truncated or non-text header") }
        guard let descr = field("descr", in: header), let element = NPYElement(rawValue: descr) else {
            throw fail("unsupported dtype in header \(header)")
        }
        guard field("fortran_order", in: header) == "False" else { throw fail("Fortran order is not supported") }
        guard let shapeText = shapeText(in: header) else { throw fail("no shape in header") }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? -1
        let (count, overflow) = shape.reduce((1, false)) { acc, n in
            let (product, o) = acc.0.multipliedReportingOverflow(by: max(n, 0))
            return (product, acc.1 || o || n < 0)
        }
        guard !overflow, size - headerStart - headerLength == count * element.size else {
            throw fail("shape \(shape) needs \(count * element.size) bytes of data, the file has \(size - headerStart - headerLength)")
        }
        return (shape, element)
    }

    /// The file's bytes (format version 1.0, header padded to a multiple of 64).
    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(element.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let length = UInt16(header.utf8.count)
        data.append(UInt8(length & 0xFF))
        data.append(UInt8(length >> 8))
        data.append(contentsOf: Array(header.utf8))
        data.reserveCapacity(data.count + values.count * element.size)
        for v in values {
            switch element {
            case .float32: withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { data.append(contentsOf: $0) }
            case .float64: withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            case .int32: withUnsafeBytes(of: Int32(v).littleEndian) { data.append(contentsOf: $0) }
            case .int64: withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Writes the array as a `.npy` file.
    public func write(to url: URL) throws {
        try encoded().write(to: url, options: .atomic)
    }

    private static func field(_ name: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(name)':") else { return nil }
        let rest = header[range.upperBound...].drop(while: { $0 == " " })
        if rest.first == "'" {
            let inner = rest.dropFirst()
            return inner.firstIndex(of: "'").map { String(inner[..<$0]) }
        }
        return String(rest.prefix(while: { $0 != "," && $0 != "}" })).trimmingCharacters(in: .whitespaces)
    }

    private static func shapeText(in header: String) -> String? {
        guard let range = header.range(of: "'shape':"),
              let open = header[range.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { return nil }
        return String(header[header.index(after: open)..<close])
    }
}
