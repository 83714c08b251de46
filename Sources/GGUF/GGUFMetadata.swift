/// The key-value metadata of a GGUF file, in file order, with typed accessors.
///
/// Integer accessors accept every integer width, so a count stored as u32 by one
/// writer and u64 by another reads the same. The accessors throw ``GGUFError`` with
/// ``GGUFError/Kind/missingKey(_:)`` or ``GGUFError/Kind/wrongKeyType(key:expected:actual:)``:
///
/// ```swift
/// let layers = try file.metadata.int("llama.block_count")
/// let eps = try file.metadata.floatIfPresent("llama.attention.layer_norm_rms_epsilon") ?? 1e-5
/// ```
public struct GGUFMetadata: Sendable {
    /// The path of the file the metadata came from, for error messages.
    public let path: String
    /// The keys in file order.
    public let keys: [String]
    private let values: [String: GGUFValue]

    init(path: String, keys: [String], values: [String: GGUFValue]) {
        self.path = path
        self.keys = keys
        self.values = values
    }

    /// The value stored under `key`, or nil.
    public subscript(key: String) -> GGUFValue? { values[key] }

    // MARK: Required values

    /// An integer of any width.
    public func int(_ key: String) throws -> Int {
        try convert(key, expected: "an integer") { $0.intValue }
    }

    /// A float (f32 or f64) or an integer, as a Double.
    public func float(_ key: String) throws -> Double {
        try convert(key, expected: "a number") { $0.doubleValue }
    }

    /// A string.
    public func string(_ key: String) throws -> String {
        try convert(key, expected: "a string") {
            if case .string(let s) = $0 { s } else { nil }
        }
    }

    /// A bool.
    public func bool(_ key: String) throws -> Bool {
        try convert(key, expected: "a bool") {
            if case .bool(let b) = $0 { b } else { nil }
        }
    }

    /// An array of strings.
    public func strings(_ key: String) throws -> [String] {
        try convertArray(key, expected: "an array of strings") {
            if case .string(let s) = $0 { s } else { nil }
        }
    }

    /// An array of integers of any width.
    public func ints(_ key: String) throws -> [Int] {
        try convertArray(key, expected: "an array of integers") { $0.intValue }
    }

    /// An array of floats (f32, f64 or integers), as Float.
    public func floats(_ key: String) throws -> [Float] {
        try convertArray(key, expected: "an array of numbers") { value in
            if case .float32(let f) = value { f } else { value.doubleValue.map(Float.init) }
        }
    }

    // MARK: Optional values

    /// Like ``int(_:)``, but nil when the key is absent.
    public func intIfPresent(_ key: String) throws -> Int? {
        values[key] == nil ? nil : try int(key)
    }

    /// Like ``float(_:)``, but nil when the key is absent.
    public func floatIfPresent(_ key: String) throws -> Double? {
        values[key] == nil ? nil : try float(key)
    }

    /// Like ``string(_:)``, but nil when the key is absent.
    public func stringIfPresent(_ key: String) throws -> String? {
        values[key] == nil ? nil : try string(key)
    }

    /// Like ``bool(_:)``, but nil when the key is absent.
    public func boolIfPresent(_ key: String) throws -> Bool? {
        values[key] == nil ? nil : try bool(key)
    }

    // MARK: Conversion

    private func convert<T>(_ key: String, expected: String, _ transform: (GGUFValue) -> T?) throws -> T {
        guard let value = values[key] else {
            throw GGUFError(path: path, kind: .missingKey(key))
        }
        guard let result = transform(value) else {
            throw GGUFError(path: path, kind: .wrongKeyType(key: key, expected: expected, actual: value.typeName))
        }
        return result
    }

    private func convertArray<T>(_ key: String, expected: String, _ transform: (GGUFValue) -> T?) throws -> [T] {
        try convert(key, expected: expected) { value -> [T]? in
            guard case .array(let elements) = value else { return nil }
            var result: [T] = []
            result.reserveCapacity(elements.count)
            for element in elements {
                guard let converted = transform(element) else { return nil }
                result.append(converted)
            }
            return result
        }
    }
}
