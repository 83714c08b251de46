import Foundation
import Synchronization

/// A running engine worker: a child process spoken to over its stdin/stdout with ``WireProtocol``.
///
/// Requests are serialized (one in flight); the worker's stderr is kept (its last lines) so a crash
/// can be reported with what the worker said. The process ends with the connection.
public final class WorkerConnection: Sendable {
    /// What the worker said about itself in `hello`.
    public struct Identity: Sendable, Equatable {
        public var engine: String
        /// e.g. `transformers 5.24.0, torch 2.13.0+cpu`.
        public var version: String
        public var device: String
        public var dtype: String
        public var protocolVersion: Int
    }

    public let identity: Identity
    public let command: [String]
    private let process: Process
    private let input: FileHandle
    private let output: FileHandle
    private let channel = Mutex(())
    private let errorTail: ErrorTail
    /// Cache handles released since the last request; sent with the next one.
    let pendingReleases = Mutex<[Int]>([])

    private final class ErrorTail: Sendable {
        let text = Mutex("")
        func append(_ data: Data) {
            let chunk = String(decoding: data, as: UTF8.self)
            text.withLock { text in
                text += chunk
                if text.count > 8000 { text = String(text.suffix(4000)) }
            }
        }
        var last: String { text.withLock { $0 }.split(separator: "\n").suffix(12).joined(separator: "\n") }
    }

    /// Starts `executable arguments…` and says hello. `environment` adds to (or overrides) this process's.
    public init(executable: URL, arguments: [String], environment: [String: String] = [:],
                options: JSONValue = [:]) throws {
        // A worker that dies must not take rbench with it through SIGPIPE on its stdin.
        signal(SIGPIPE, SIG_IGN)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw WorkerError.launch("\(executable.path) is not an executable (for the transformers engine run `make engines`, which builds .build-engines/venv)")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let tail = ErrorTail()
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { tail.append(data) }
        }
        do { try process.run() } catch {
            throw WorkerError.launch("\(executable.path) \(arguments.joined(separator: " ")): \(error)")
        }
        let hello: WireMessage
        do {
            hello = try Self.exchange(input: stdin.fileHandleForWriting, output: stdout.fileHandleForReading, tail: tail, process: process,
                                      header: ["op": "hello", "args": ["protocol": .number(Double(WireProtocol.version)), "options": options]],
                                      arrays: [])
        } catch {
            process.terminate()
            throw error
        }
        let result = hello.header["result"]
        let version = result?["protocol"]?.int ?? -1
        guard version == WireProtocol.version else {
            process.terminate()
            throw WorkerError.versionMismatch(worker: version, client: WireProtocol.version)
        }
        self.process = process
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        errorTail = tail
        command = [executable.path] + arguments
        identity = Identity(engine: result?["engine"]?.string ?? "?", version: result?["version"]?.string ?? "?",
                            device: result?["device"]?.string ?? "?", dtype: result?["dtype"]?.string ?? "?",
                            protocolVersion: version)
    }

    deinit {
        // The worker ends at the end of its input; give it a moment, then stop it.
        try? input.close()
        for _ in 0..<50 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
    }

    /// Sends `op` with `args` and `arrays`; returns the result and its arrays, or throws the worker's error.
    public func request(_ op: String, _ args: [String: JSONValue] = [:], arrays: [WireArray] = []) throws -> WireMessage {
        let releases = pendingReleases.withLock { pending in defer { pending = [] }; return pending }
        var header: [String: JSONValue] = ["op": .string(op), "args": .object(args)]
        if !releases.isEmpty { header["release"] = .ints(releases) }
        return try channel.withLock { _ in
            try Self.exchange(input: input, output: output, tail: errorTail, process: process, header: .object(header), arrays: arrays)
        }
    }

    private static func exchange(input: FileHandle, output: FileHandle, tail: ErrorTail, process: Process,
                                 header: JSONValue, arrays: [WireArray]) throws -> WireMessage {
        func died(_ what: String) -> WorkerError {
            Thread.sleep(forTimeInterval: 0.2)  // let the last stderr lines arrive
            let said = tail.last
            return .protocolViolation("\(what)\(process.isRunning ? "" : " (the worker exited with status \(process.terminationStatus))")"
                                      + (said.isEmpty ? "" : "; it said:\n\(said)"))
        }
        let frame = try Frame.encode(header: header, arrays: arrays)
        do {
            try input.write(contentsOf: frame.head)
            for payload in frame.payloads { try input.write(contentsOf: payload) }
        } catch {
            throw died("cannot write to the worker: \(error)")
        }
        let message: WireMessage
        do {
            message = try Frame.decode { n in
                var data = Data()
                while data.count < n {
                    guard let chunk = try output.read(upToCount: n - data.count), !chunk.isEmpty else { break }
                    data.append(chunk)
                }
                return data
            }
        } catch let error as WorkerError {
            throw died(error.description)
        }
        if message.header["ok"]?.bool == true { return message }
        let error = message.header["error"]
        throw WorkerError.remote(kind: error?["kind"]?.string ?? "error", message: error?["message"]?.string ?? "\(message.header)")
    }

    /// Ends the worker (it also ends when the connection is released).
    public func shutdown() {
        _ = try? request("shutdown")
    }
}
