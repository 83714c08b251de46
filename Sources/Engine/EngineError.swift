/// Errors from loading or running a model. Each names the file or the argument at fault.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(file: String, name: String)
    case invalidConfiguration(file: String, reason: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let file, let name):
            return "\(file): architecture '\(name)' is not supported (supported: "
                + Architecture.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .invalidConfiguration(let file, let reason):
            return "\(file): inconsistent model configuration: \(reason)"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .invalidInput(let reason):
            return "invalid input: \(reason)"
        }
    }
}
