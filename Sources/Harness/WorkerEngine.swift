import Claims
import Engine
import Foundation
import RemoteEngine
import Recording

/// The suite's models on an engine worker (`rbench run --engine transformers`): one worker process per
/// run, holding the trained model (from the GGUF file, through transformers' `gguf_file`) and the
/// random-init control (rbench's own draws, sent as float32).
public final class WorkerEngine: ModelEngine {
    public let connection: WorkerConnection

    /// Starts `python script`; `device` (e.g. `cuda`, `cpu`) overrides the worker's choice.
    public init(python: URL, script: URL, device: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw WorkerError.launch("\(script.path) does not exist (run rbench from the repository root)")
        }
        var options: [String: JSONValue] = [:]
        if let device { options["device"] = .string(device) }
        connection = try WorkerConnection(executable: python, arguments: [script.path], options: .object(options))
    }

    /// The transformers worker of this checkout: `.build-engines/venv` (made by `make engines`).
    public static func transformers(root: URL, device: String? = nil) throws -> WorkerEngine {
        try WorkerEngine(python: root.appendingPathComponent(".build-engines/venv/bin/python"),
                         script: root.appendingPathComponent("Tools/engines/transformers_worker.py"), device: device)
    }

    /// What the run records about the engine.
    public var record: EngineRecord {
        let identity = connection.identity
        return EngineRecord(name: identity.engine, version: identity.version, device: identity.device, dtype: identity.dtype,
                            protocolVersion: identity.protocolVersion)
    }

    public func load(gguf url: URL) throws -> any ResidualModel {
        try RemoteModel.load(gguf: url, on: connection)
    }

    public func randomlyInitialized(like trained: any ResidualModel, origin: String,
                                    fill: (inout [Float]) -> Void) throws -> any ResidualModel {
        guard let remote = trained as? RemoteModel, remote.worker === connection else {
            throw EngineError.invalidInput("the random-init control is built in the worker that holds the trained model")
        }
        return try RemoteModel.randomlyInitialized(like: remote, origin: origin, fill: fill)
    }
}
