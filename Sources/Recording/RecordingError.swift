/// What can go wrong while recording runs, reading baselines or comparing them.
public enum RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libgit2 failed on a repository.
    case git(path: String, message: String)
    /// The results database could not be opened, migrated or written.
    case database(path: String, message: String)
    /// The file is not a results database this build can read: written by a newer build
    /// (migrations it does not know), a schema that lacks columns it reads, or not SQLite at all.
    case incompatibleDatabase(path: String, message: String)
    /// A baseline or run file is malformed; `line` is 1-based, nil when the whole file is at fault.
    case badFile(path: String, line: Int?, message: String)
    /// A file that should exist does not.
    case missingFile(path: String, hint: String)
    /// A run, revision or metric named on the command line was not found.
    case notFound(String)
    /// The request is valid but refused (e.g. a baseline update from a dirty tree).
    case refused(String)

    public var description: String {
        switch self {
        case .git(let path, let message): "\(path): git: \(message)"
        case .database(let path, let message): "\(path): database: \(message)"
        case .incompatibleDatabase(let path, let message): "\(path): \(message)"
        case .badFile(let path, let line, let message): "\(path)\(line.map { ":\($0)" } ?? ""): \(message)"
        case .missingFile(let path, let hint): "\(path): no such file; \(hint)"
        case .notFound(let what): what
        case .refused(let why): why
        }
    }

    /// True when the error is about an input file (exit 65) rather than the tool (exit 70).
    public var isBadInput: Bool {
        switch self {
        case .badFile, .missingFile, .incompatibleDatabase: true
        default: false
        }
    }

    /// The process exit code (``ExitCodes``): a run or revision named on the command line that does
    /// not exist, or a refused request, is a usage error (64); a bad input file 65; the rest 70.
    public var exitCode: Int32 {
        switch self {
        case .notFound, .refused: ExitCodes.usage
        case .badFile, .missingFile, .incompatibleDatabase: ExitCodes.badInput
        case .git, .database: ExitCodes.internalError
        }
    }
}
