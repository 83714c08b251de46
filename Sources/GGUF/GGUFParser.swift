/// The parsed header of a GGUF file: everything before the data section.
struct GGUFHeader {
    var version: UInt32
    var metadata: GGUFMetadata
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
}

/// A bounds-checked, little-endian cursor over the bytes of a GGUF file.
///
/// Every read checks the remaining length first, and every count read from the file is
/// checked against the remaining bytes before anything is allocated for it.
struct GGUFParser {
    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32
    static let defaultAlignment = 32
    static let maxNameBytes = 63
    static let maxKeyBytes = 65535
    static let maxDimensions = 4
    static let maxArrayNesting = 16

    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    func failure(_ kind: GGUFError.Kind, at offset: Int? = nil) -> GGUFError {
        GGUFError(path: path, offset: offset, kind: kind)
    }

    // MARK: Primitives

    /// Checks that `count` more bytes exist, naming `what` otherwise, and returns their start.
    private mutating func take(_ count: Int, for what: @autoclosure () -> String) throws -> Int {
        guard count <= remaining else {
            throw failure(.truncated(what: what(), end: position + count, fileSize: bytes.count), at: position)
        }
        defer { position += count }
        return position
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, for what: @autoclosure () -> String) throws -> T {
        let start = try take(MemoryLayout<T>.size, for: what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 { try load(UInt8.self, for: what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, for: what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, for: what()) }

    /// A u64 length or count that must describe at most `remaining / unitSize` items.
    private mutating func count(_ what: @autoclosure () -> String, unitSize: Int) throws -> Int {
        let start = position
        let value = try u64(what())
        guard value <= UInt64(remaining / unitSize) else {
            if unitSize == 1 {
                // A length: report where the bytes would end, which is what a reader expects.
                let end = UInt64(position).addingReportingOverflow(value)
                if !end.overflow, end.partialValue <= UInt64(Int.max) {
                    throw failure(.truncated(what: what(), end: Int(end.partialValue), fileSize: bytes.count), at: start)
                }
            }
            throw failure(.implausibleCount(what: what(), count: value), at: start)
        }
        return Int(value)
    }

    /// A length-prefixed UTF-8 string.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = position
        let announced = peekLength()
        let length = try count("\(what()) (length \(announced))", unitSize: 1)
        let bodyStart = try take(length, for: what())
        let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart ..< bodyStart + length])
        guard let string = String(validating: body, as: UTF8.self) else {
            throw failure(.invalidUTF8(what: what()), at: start)
        }
        return string
    }

    private func peekLength() -> UInt64 {
        remaining >= 8 ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) : 0
    }

    // MARK: File structure

    mutating func parseHeader() throws -> GGUFHeader {
        guard bytes.count >= 4,
              UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == Self.magic else {
            throw failure(.notGGUF, at: 0)
        }
        position = 4
        let version = try u32("the header version")
        if version & 0xFFFF == 0, version != 0 {
            throw failure(.endiannessMismatch, at: 4)
        }
        guard version == 2 || version == 3 else {
            throw failure(.unsupportedVersion(version), at: 4)
        }
        let tensorCountOffset = position
        let tensorCount = try u64("the tensor count")
        let keyCountOffset = position
        let keyCount = try u64("the metadata key count")
        // Smallest encodings: a key/value is a length, a type and one byte; a tensor info
        // is a length, n_dims, a type and an offset.
        guard keyCount <= UInt64(remaining / 13) else {
            throw failure(.implausibleCount(what: "metadata key count", count: keyCount), at: keyCountOffset)
        }
        guard tensorCount <= UInt64(remaining / 24) else {
            throw failure(.implausibleCount(what: "tensor count", count: tensorCount), at: tensorCountOffset)
        }

        let metadata = try parseMetadata(count: Int(keyCount))
        let alignment = try Self.alignment(in: metadata, path: path)
        var infos = try parseTensorInfos(count: Int(tensorCount), alignment: alignment)
        let dataOffset = position + (alignment - position % alignment) % alignment
        try Self.checkPlacement(infos, alignment: alignment, path: path)
        for index in infos.indices {
            infos[index] = try placed(infos[index], dataOffset: dataOffset)
        }
        return GGUFHeader(version: version, metadata: metadata, tensors: infos,
                          alignment: alignment, dataOffset: dataOffset)
    }

    private mutating func parseMetadata(count: Int) throws -> GGUFMetadata {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(count)
        values.reserveCapacity(count)
        for index in 0 ..< count {
            let keyOffset = position
            let keyLength = peekLength()
            if keyLength > UInt64(Self.maxKeyBytes), keyLength <= UInt64(remaining) {
                throw failure(.keyTooLong(length: keyLength), at: keyOffset)
            }
            let key = try string("metadata key #\(index)")
            let typeOffset = position
            let typeID = try u32("the value type of key '\(key)'")
            let value = try value(ofType: typeID, key: key, typeOffset: typeOffset, depth: 0)
            guard values.updateValue(value, forKey: key) == nil else {
                throw failure(.duplicateKey(key), at: keyOffset)
            }
            keys.append(key)
        }
        return GGUFMetadata(path: path, keys: keys, values: values)
    }

    /// The smallest encoded size of one value of a type, used to bound array counts.
    private static func minimumSize(ofType typeID: UInt32) -> Int {
        switch typeID {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        default: 12  // an array: element type and count
        }
    }

    private mutating func value(ofType typeID: UInt32, key: String, typeOffset: Int, depth: Int) throws -> GGUFValue {
        switch typeID {
        case 0: return .uint8(try u8("the value of '\(key)'"))
        case 1: return .int8(Int8(bitPattern: try u8("the value of '\(key)'")))
        case 2: return .uint16(try load(UInt16.self, for: "the value of '\(key)'"))
        case 3: return .int16(Int16(bitPattern: try load(UInt16.self, for: "the value of '\(key)'")))
        case 4: return .uint32(try u32("the value of '\(key)'"))
        case 5: return .int32(Int32(bitPattern: try u32("the value of '\(key)'")))
        case 6: return .float32(Float(bitPattern: try u32("the value of '\(key)'")))
        case 7:
            let offset = position
            let byte = try u8("the value of '\(key)'")
            guard byte <= 1 else { throw failure(.invalidBool(key: key, byte: byte), at: offset) }
            return .bool(byte == 1)
        case 8: return .string(try string("the string value of '\(key)'"))
        case 9:
            guard depth < Self.maxArrayNesting else { throw failure(.nestingTooDeep(key: key), at: typeOffset) }
            let elementTypeOffset = position
            let elementType = try u32("the array element type of '\(key)'")
            guard elementType <= 12 else {
                throw failure(.invalidValueType(key: key, typeID: elementType), at: elementTypeOffset)
            }
            let count = try count("the array length of '\(key)'", unitSize: Self.minimumSize(ofType: elementType))
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0 ..< count {
                elements.append(try value(ofType: elementType, key: key, typeOffset: elementTypeOffset, depth: depth + 1))
            }
            return .array(elements)
        case 10: return .uint64(try u64("the value of '\(key)'"))
        case 11: return .int64(Int64(bitPattern: try u64("the value of '\(key)'")))
        case 12: return .float64(Double(bitPattern: try u64("the value of '\(key)'")))
        default: throw failure(.invalidValueType(key: key, typeID: typeID), at: typeOffset)
        }
    }

    private static func alignment(in metadata: GGUFMetadata, path: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw GGUFError(path: path, kind: .invalidAlignment("it is stored as \(value.typeName)"))
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(path: path, kind: .invalidAlignment("\(alignment) is not a power of two"))
        }
        return Int(alignment)
    }

    /// Tensor infos with offsets still relative to the data section.
    private mutating func parseTensorInfos(count: Int, alignment: Int) throws -> [GGUFTensorInfo] {
        var infos: [GGUFTensorInfo] = []
        var seen = Set<String>()
        infos.reserveCapacity(count)
        seen.reserveCapacity(count)
        for index in 0 ..< count {
            let infoOffset = position
            let name = try string("the name of tensor #\(index)")
            guard name.utf8.count <= Self.maxNameBytes else {
                throw failure(.tensorNameTooLong(name), at: infoOffset)
            }
            guard seen.insert(name).inserted else { throw failure(.duplicateTensor(name), at: infoOffset) }
            let dimensionCount = try u32("the dimension count of tensor '\(name)'")
            guard dimensionCount <= Self.maxDimensions else {
                throw failure(.tooManyDimensions(tensor: name, count: dimensionCount), at: infoOffset)
            }
            var dimensions: [Int] = []
            var elements = 1
            for axis in 0 ..< Int(dimensionCount) {
                let extent = try u64("extent \(axis) of tensor '\(name)'")
                guard extent <= UInt64(Int64.max) else { throw failure(.sizeOverflow(tensor: name), at: infoOffset) }
                let product = elements.multipliedReportingOverflow(by: Int(extent))
                guard !product.overflow else { throw failure(.sizeOverflow(tensor: name), at: infoOffset) }
                elements = product.partialValue
                dimensions.append(Int(extent))
            }
            let typeOffset = position
            let typeID = try u32("the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: typeID) else {
                throw failure(.unknownType(tensor: name, typeID: typeID), at: typeOffset)
            }
            let rowLength = dimensions.first ?? 1
            guard rowLength % type.blockElements == 0 else {
                throw failure(.rowNotDivisible(tensor: name, type: type, rowLength: rowLength), at: infoOffset)
            }
            guard let byteCount = type.byteCount(forElements: elements) else {
                throw failure(.sizeOverflow(tensor: name), at: infoOffset)
            }
            let offsetPosition = position
            let relativeOffset = try u64("the data offset of tensor '\(name)'")
            guard relativeOffset % UInt64(alignment) == 0 else {
                throw failure(.misalignedOffset(tensor: name, offset: relativeOffset, alignment: alignment), at: offsetPosition)
            }
            guard relativeOffset <= UInt64(Int.max / 2) else {
                throw failure(.truncated(what: "tensor '\(name)' data", end: Int.max, fileSize: bytes.count), at: offsetPosition)
            }
            infos.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type,
                                        offset: Int(relativeOffset), byteCount: byteCount))
        }
        return infos
    }

    /// ggml's rule (gguf.cpp): tensors lie in the order of their infos, each at exactly the sum
    /// of the previous tensors' byte sizes padded to the alignment. Anything else means two
    /// tensors share bytes or a size was changed (e.g. a type id), so the data would be misread.
    private static func checkPlacement(_ infos: [GGUFTensorInfo], alignment: Int, path: String) throws {
        var expected = 0
        for info in infos {
            guard info.offset == expected else {
                throw GGUFError(path: path, kind: .unexpectedOffset(tensor: info.name, offset: info.offset, expected: expected))
            }
            let (end, overflow) = expected.addingReportingOverflow(info.byteCount)
            guard !overflow, end <= Int.max - alignment else { throw GGUFError(path: path, kind: .sizeOverflow(tensor: info.name)) }
            expected = end + (alignment - end % alignment) % alignment
        }
    }

    /// The info with its absolute offset, checked to lie inside the file.
    private func placed(_ info: GGUFTensorInfo, dataOffset: Int) throws -> GGUFTensorInfo {
        let start = dataOffset + info.offset
        let (end, overflow) = start.addingReportingOverflow(info.byteCount)
        guard !overflow, end <= bytes.count else {
            throw failure(.truncated(what: "tensor '\(info.name)' data", end: overflow ? Int.max : end,
                                     fileSize: bytes.count), at: start)
        }
        return GGUFTensorInfo(name: info.name, dimensions: info.dimensions, type: info.type,
                              offset: start, byteCount: info.byteCount)
    }
}
