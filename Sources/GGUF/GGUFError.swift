/// An error reading a GGUF file or looking something up in it.
///
/// The message names the file, the byte offset where one applies, what is wrong and,
/// where it helps, what to do:
///
/// ```
/// model.gguf: truncated: tensor 'blk.0.attn_q.weight' data ends at byte 1234567 but the file has 1000000 bytes
/// ```
///
/// Match on ``kind`` to react to a specific problem:
///
/// ```swift
/// catch let error as GGUFError where error.kind == .missingTensor("output.weight") { … }
/// ```
public struct GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        // The container.
        /// The file could not be opened or mapped; the associated value is the system's reason.
        case cannotOpen(String)
        /// The file does not start with the magic `GGUF`.
        case notGGUF
        /// The header version is not 2 or 3.
        case unsupportedVersion(UInt32)
        /// The version reads as a byte-swapped number: the file was written big-endian.
        case endiannessMismatch
        /// The file ends before `what` (a field, string, array or tensor) is complete.
        case truncated(what: String, end: Int, fileSize: Int)
        /// A header count cannot fit in the remaining bytes.
        case implausibleCount(what: String, count: UInt64)
        /// A metadata value type id outside 0...12.
        case invalidValueType(key: String, typeID: UInt32)
        /// Arrays nested deeper than the reader allows.
        case nestingTooDeep(key: String)
        /// A bool byte other than 0 or 1.
        case invalidBool(key: String, byte: UInt8)
        /// A string whose bytes are not valid UTF-8.
        case invalidUTF8(what: String)
        /// A metadata key appears twice.
        case duplicateKey(String)
        /// A metadata key is longer than 65535 bytes.
        case keyTooLong(length: UInt64)
        /// `general.alignment` is not a u32 power of two.
        case invalidAlignment(String)
        // Tensor infos.
        /// A tensor name appears twice.
        case duplicateTensor(String)
        /// A tensor name longer than ggml's 63 bytes.
        case tensorNameTooLong(String)
        /// More than 4 dimensions.
        case tooManyDimensions(tensor: String, count: UInt32)
        /// An extent that is negative as int64, or an element or byte count that overflows.
        case sizeOverflow(tensor: String)
        /// A tensor type id ggml has never assigned (or has removed).
        case unknownType(tensor: String, typeID: UInt32)
        /// `ne0` is not a multiple of the type's block size.
        case rowNotDivisible(tensor: String, type: GGMLType, rowLength: Int)
        /// A tensor's data offset is not a multiple of the alignment.
        case misalignedOffset(tensor: String, offset: UInt64, alignment: Int)
        /// A tensor's data is not where ggml places it: right after the previous tensor's
        /// padded data. Its bytes overlap another tensor's, or leave a gap.
        case unexpectedOffset(tensor: String, offset: Int, expected: Int)
        // Dequantization.
        /// The tensor's type cannot be dequantized by this module.
        case unsupportedType(tensor: String, type: GGMLType)
        /// A row range outside the tensor, or an output buffer of the wrong size.
        case invalidRowRange(tensor: String, rows: Range<Int>, rowCount: Int, outputCount: Int)
        // Lookups by the engine.
        /// No tensor has this name.
        case missingTensor(String)
        /// A tensor's dimensions are not the expected ones.
        case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
        /// A metadata key is absent.
        case missingKey(String)
        /// A metadata key holds a value of another type than asked for.
        case wrongKeyType(key: String, expected: String, actual: String)
        /// The model's `general.architecture` is not one the engine implements.
        case unsupportedArchitecture(String)
    }

    /// The file path, as given when opening it.
    public let path: String
    /// The byte offset in the file where the problem was found, if it has one.
    public let offset: Int?
    /// What went wrong.
    public let kind: Kind

    /// Creates an error about the file at `path`.
    public init(path: String, offset: Int? = nil, kind: Kind) {
        self.path = path
        self.offset = offset
        self.kind = kind
    }

    /// An error for a model whose architecture the engine does not implement.
    public static func unsupportedArchitecture(_ architecture: String, path: String) -> GGUFError {
        GGUFError(path: path, kind: .unsupportedArchitecture(architecture))
    }

    public var description: String {
        let place = offset.map { " at byte \($0)" } ?? ""
        return "\(path): \(message(place: place))"
    }

    private func message(place: String) -> String {
        let supported = GGMLType.dequantizableTypes.map(\.name).joined(separator: ", ")
        switch kind {
        case .cannotOpen(let reason):
            return "cannot open and map the file: \(reason)"
        case .notGGUF:
            return "not a GGUF file: it does not start with the magic bytes 'GGUF'"
        case .unsupportedVersion(let version):
            let hint = version == 1 ? " (v1 used 32-bit counts; re-convert the model with a current llama.cpp)" : ""
            return "unsupported GGUF version \(version)\(hint); supported: 2, 3"
        case .endiannessMismatch:
            return "endianness mismatch: the version field reads byte-swapped, so the file was written big-endian; convert it to little-endian"
        case .truncated(let what, let end, let fileSize):
            return "truncated: \(what) ends at byte \(end) but the file has \(fileSize) bytes"
        case .implausibleCount(let what, let count):
            return "corrupt header\(place): \(what) \(count) cannot fit in the rest of the file"
        case .invalidValueType(let key, let typeID):
            return "corrupt metadata\(place): key '\(key)' has value type \(typeID); valid types are 0...12"
        case .nestingTooDeep(let key):
            return "corrupt metadata\(place): key '\(key)' nests arrays too deeply"
        case .invalidBool(let key, let byte):
            return "corrupt metadata\(place): key '\(key)' holds bool byte \(byte); only 0 and 1 are valid"
        case .invalidUTF8(let what):
            return "corrupt string\(place): \(what) is not valid UTF-8"
        case .duplicateKey(let key):
            return "duplicate metadata key '\(key)'\(place)"
        case .keyTooLong(let length):
            return "metadata key\(place) is \(length) bytes long; at most 65535 are allowed"
        case .invalidAlignment(let detail):
            return "invalid general.alignment: \(detail); it must be a u32 power of two"
        case .duplicateTensor(let name):
            return "duplicate tensor name '\(name)'\(place)"
        case .tensorNameTooLong(let name):
            return "tensor name '\(name)'\(place) is \(name.utf8.count) bytes long; ggml allows at most 63"
        case .tooManyDimensions(let tensor, let count):
            return "tensor '\(tensor)'\(place) has \(count) dimensions; at most 4 are allowed"
        case .sizeOverflow(let tensor):
            return "tensor '\(tensor)'\(place) has a negative extent or an element or byte count that overflows"
        case .unknownType(let tensor, let typeID):
            return "tensor '\(tensor)'\(place) has unknown ggml type id \(typeID); known ids: \(GGMLType.allCases.map { String($0.rawValue) }.joined(separator: ", "))"
        case .rowNotDivisible(let tensor, let type, let rowLength):
            return "tensor '\(tensor)'\(place): ne0 = \(rowLength) is not a multiple of the \(type.name) block size \(type.blockElements)"
        case .misalignedOffset(let tensor, let offset, let alignment):
            return "tensor '\(tensor)'\(place): data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .unexpectedOffset(let tensor, let offset, let expected):
            return "tensor '\(tensor)': data offset \(offset) is not where ggml places it (\(expected), right after the previous tensor's padded data); "
                + "tensors overlap or leave a gap, so a size or type id is wrong. The file is damaged: re-download or re-convert it"
        case .unsupportedType(let tensor, let type):
            return "tensor '\(tensor)': \(type) is not supported for dequantization; supported: \(supported)"
        case .invalidRowRange(let tensor, let rows, let rowCount, let outputCount):
            return "tensor '\(tensor)': rows \(rows) are not inside 0..<\(rowCount), or the output buffer (\(outputCount) floats) is smaller than the rows need"
        case .missingTensor(let name):
            return "no tensor named '\(name)'"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)' has dimensions \(actual) but \(expected) were expected"
        case .missingKey(let key):
            return "missing metadata key '\(key)'"
        case .wrongKeyType(let key, let expected, let actual):
            return "metadata key '\(key)' holds \(actual) but \(expected) was expected"
        case .unsupportedArchitecture(let architecture):
            return "unsupported architecture '\(architecture)'"
        }
    }
}
