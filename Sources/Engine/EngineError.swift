/// Errors from loading or running a model. Each names the file or the argument at fault.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(file: String, name: String)
    case invalidConfiguration(file: String, reason: String)
    /// A model setting (the metadata `key`) holds a value the engine cannot run, or one that
    /// contradicts the tensors of the file.
    case invalidSetting(file: String, key: String, value: String, problem: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// The family is known but this model uses a feature of it the engine does not run.
    case unsupportedFeature(file: String, feature: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let file, let name):
            return "\(file): architecture '\(name)' is not supported (supported: "
                + Architecture.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .unsupportedFeature(let file, let feature):
            return "\(file): this engine does not run \(feature); convert a model without it or add it to the family's block"
        case .invalidConfiguration(let file, let reason):
            return "\(file): inconsistent model configuration: \(reason)"
        case .invalidSetting(let file, let key, let value, let problem):
            return "\(file): invalid model setting \(key) = \(value): it \(problem). "
                + "The file is damaged or was converted wrongly; re-download or re-convert it"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .invalidInput(let reason):
            return "invalid input: \(reason)"
        }
    }
}
