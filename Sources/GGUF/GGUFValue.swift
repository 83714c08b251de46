/// One metadata value of a GGUF file, with the value types of the format (ids 0–12).
///
/// ```swift
/// if case .string(let architecture) = file.metadata["general.architecture"] { … }
/// ```
public enum GGUFValue: Sendable, Hashable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// Elements of one type; arrays may nest.
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The format's value type id (0 u8 … 12 f64).
    public var typeID: UInt32 {
        switch self {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    /// A short type name for messages, e.g. `u32` or `array of string`.
    public var typeName: String {
        switch self {
        case .array(let elements):
            elements.first.map { "array of \($0.typeName)" } ?? "empty array"
        default:
            Self.typeName(ofID: typeID)
        }
    }

    static func typeName(ofID id: UInt32) -> String {
        switch id {
        case 0: "u8"
        case 1: "i8"
        case 2: "u16"
        case 3: "i16"
        case 4: "u32"
        case 5: "i32"
        case 6: "f32"
        case 7: "bool"
        case 8: "string"
        case 9: "array"
        case 10: "u64"
        case 11: "i64"
        case 12: "f64"
        default: "type \(id)"
        }
    }

    /// The value as an `Int` if it is an integer of any width that fits.
    var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        default: nil
        }
    }

    /// The value as a `Double` if it is a float or an integer.
    var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }
}
