/// Exact representations of Float64 values for storage and baseline files.
enum FloatBits {
    /// The IEEE-754 pattern as a signed integer, the form SQLite stores exactly.
    static func storageInteger(_ value: Double) -> Int64 { Int64(bitPattern: value.bitPattern) }

    /// The value a stored signed bit pattern stands for.
    static func double(fromStorage bits: Int64) -> Double { Double(bitPattern: UInt64(bitPattern: bits)) }

    /// 16 lowercase hex digits of the IEEE-754 pattern.
    static func hex(_ value: Double) -> String {
        let digits = String(value.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Parses 16 hex digits back into a Double; nil when malformed.
    static func double(fromHex text: String) -> Double? {
        guard text.count == 16, let bits = UInt64(text, radix: 16) else { return nil }
        return Double(bitPattern: bits)
    }

    /// The shortest decimal that round-trips, or a string for values JSON has no number for.
    static func jsonValue(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value == .infinity { return "\"Infinity\"" }
        if value == -.infinity { return "\"-Infinity\"" }
        if value == 0 && value.sign == .minus { return "\"-0\"" }
        return value.description
    }

    /// Parses the string spellings `jsonValue` emits for non-numbers.
    static func double(fromSpecial text: String) -> Double? {
        switch text {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        case "-0": -0.0
        default: nil
        }
    }

    /// How many representable doubles lie between `a` and `b` (0 when bit-identical); nil when either is NaN.
    static func ulpDistance(_ a: Double, _ b: Double) -> UInt64? {
        guard !a.isNaN, !b.isNaN else { return nil }
        func ordered(_ x: Double) -> Int64 {
            let bits = Int64(bitPattern: x.bitPattern)
            return bits < 0 ? Int64.min &- bits : bits
        }
        let (x, y) = (ordered(a), ordered(b))
        return x >= y ? UInt64(bitPattern: x &- y) : UInt64(bitPattern: y &- x)
    }
}
