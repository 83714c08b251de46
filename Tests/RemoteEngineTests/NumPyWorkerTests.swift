import Engine
import Foundation
import GGUF
@testable import RemoteEngine
import Testing
import TestSupport

/// The worker protocol end to end, without torch: `Tools/engines/numpy_worker.py` (NumPy only) runs a
/// random-init model whose weights rbench sends, and must agree with the native engine on the same weights.
@Suite(.serialized) struct NumPyWorkerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repository.appendingPathComponent("Tools/engines/numpy_worker.py")

    /// `env`, which finds the `python3` on PATH; nil when that one has no NumPy (the tests then say so).
    static let python: URL? = {
        let env = URL(fileURLWithPath: "/usr/bin/env")
        guard let result = try? runProcess(env, ["python3", "-c", "import numpy"]), result.status == 0 else { return nil }
        return env
    }()

    /// A deterministic fill both engines receive: the same floats in the same order.
    static func fill(seed: UInt64) -> (inout [Float]) -> Void {
        var state = seed
        return { values in
            for i in values.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                values[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.6
            }
        }
    }

    static func models(_ spec: TinyModelSpec) throws -> (native: LanguageModel, remote: RemoteModel, worker: WorkerConnection) {
        let python = try #require(python, "python3 with NumPy is needed for the worker protocol test")
        let url = try TinyModelFixture.write(spec, named: "worker-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        let configuration = try ModelConfiguration(gguf: GGUFFile(contentsOf: url))
        let native = try LanguageModel.randomlyInitialized(like: configuration, origin: "test", fill: fill(seed: 3))
        let worker = try WorkerConnection(executable: python, arguments: ["python3", script.path])
        let shell = try RemoteModel.declare(configuration, origin: "tiny", on: worker)
        let remote = try RemoteModel.randomlyInitialized(like: shell, origin: "test", fill: fill(seed: 3))
        return (native, remote, worker)
    }

    static func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 2e-4) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) values")
        let scale = max(a.map(abs).max() ?? 1, 1e-6)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance * scale, "\(what): largest difference \(worst) at scale \(scale)")
    }

    @Test("hello names the engine and protocol; prefill, interventions, resume and readouts agree with the native engine")
    func agreesWithTheNativeEngine() throws {
        let (native, remote, worker) = try Self.models(TinyModelSpec(blocks: 3, seed: 4))
        #expect(worker.identity.engine == "numpy-reference" && worker.identity.protocolVersion == WireProtocol.version)
        let c = native.configuration
        let prompts = [[1, 5, 9, 2, 7], [3, 4], [8, 8, 1, 0, 6, 2, 11]]
        let hooks = (0...c.blockCount).map(HookPoint.residual) + (0..<c.blockCount).map(HookPoint.residualMid) + [.finalNorm]
        for positions in [PositionSelection.all, .last] {
            let plan = CapturePlan(hooks: hooks, positions: positions)
            Self.expectClose(try native.capture(prompts, plan: plan).values, try remote.capture(prompts, plan: plan).values, "capture \(positions)")
        }
        // Declarative edits travel as data.
        let vector = (0..<c.modelWidth).map { Float($0 % 5) * 0.1 }
        let edits = [Intervention.add(vector, prompt: 2, position: 3, residualIndex: 1),
                     Intervention.replace(with: vector, prompt: 0, position: 4, residualIndex: 2)]
        let plan = CapturePlan(hooks: [.residual(c.blockCount)], positions: .all)
        Self.expectClose(try native.capture(prompts, plan: plan, interventions: edits).values,
                         try remote.capture(prompts, plan: plan, interventions: edits, progress: nil).values, "edited capture")

        // Resume from residual 1, with and without an edit between blocks.
        let (nativeCapture, nativeCache) = try native.prefill(prompts, plan: CapturePlan(hooks: [.residual(1)]))
        let (remoteCapture, remoteCache) = try remote.prefill(prompts, plan: CapturePlan(hooks: [.residual(1)]))
        Self.expectClose(nativeCapture.values, remoteCapture.values, "prefill")
        let rows = [0, 2, 2].enumerated().map { i, p in
            ResumeRow(prompt: p, residual: Array(nativeCapture.vector(prompt: p, row: 0, hook: .residual(1))).map { $0 * Float(1 + i) })
        }
        let capture = [1, 2, c.blockCount]
        Self.expectClose(try native.resume(nativeCache, rows: rows, fromResidual: 1, capture: capture),
                         try remote.resume(remoteCache, rows: rows, fromResidual: 1, capture: capture), "resume")
        let halve: (Int, UnsafeMutableBufferPointer<Float>) -> Void = { _, x in for i in x.indices { x[i] *= 0.5 } }
        Self.expectClose(try native.resume(nativeCache, rows: rows, fromResidual: 1, capture: capture, afterBlock: halve),
                         try remote.resume(remoteCache, rows: rows, fromResidual: 1, capture: capture, afterBlock: halve), "resume with afterBlock")

        let states = Array(nativeCapture.values)
        Self.expectClose(native.finalNorm(states, rows: 3), try remote.finalNorm(states, rows: 3), "final norm")
        Self.expectClose(native.logits(fromResiduals: states, rows: 3), try remote.logits(fromResiduals: states, rows: 3), "logits")
        Self.expectClose(native.feedForwardGate(block: 1, residualMid: states, rows: 3),
                         try remote.feedForwardGate(block: 1, residualMid: states, rows: 3), "gate")
        let top = try remote.workerTopK(3, fromResiduals: states, rows: 3)
        #expect(top.ids == (try native.topK(3, fromResiduals: states, rows: 3)).flatMap { $0.map(\.token) })
    }

    @Test("bad requests come back as typed errors and the session goes on; a closure intervention is refused before sending")
    func errorsAreTypedAndTheSessionSurvives() throws {
        let (native, remote, worker) = try Self.models(TinyModelSpec(blocks: 3, seed: 4))
        #expect(throws: WorkerError.self) { try worker.request("no_such_op") }
        #expect(throws: WorkerError.self) { try worker.request("prefill", ["model": 999]) }
        #expect(throws: EngineError.self) { try remote.capture([[1, 99_999]], plan: CapturePlan(hooks: [.residual(0)])) }
        let closure = Intervention(residualIndex: 1) { _, _ in }
        #expect(throws: EngineError.self) { try remote.capture([[1, 2]], plan: CapturePlan(hooks: [.residual(0)]), interventions: [closure], progress: nil) }
        let (_, nativeCache) = try native.prefill([[1, 2]], plan: CapturePlan(hooks: [.residual(0)]))
        #expect(throws: EngineError.self) {
            try remote.resume(nativeCache, rows: [ResumeRow(prompt: 0, residual: [Float](repeating: 0, count: native.configuration.modelWidth))],
                              fromResidual: 0, capture: [1])
        }
        // Still serving after every refusal.
        #expect(try remote.capture([[1, 2, 3]], plan: CapturePlan(hooks: [.finalNorm])).values.count == native.configuration.modelWidth)
    }

    @Test("a worker of another protocol version ends the session with a clear error")
    func versionMismatchIsRefused() throws {
        let python = try #require(Self.python, "python3 with NumPy is needed for the worker protocol test")
        let fake = """
            import sys, os
            sys.path.insert(0, os.path.dirname(\(String(reflecting: Self.script.path))))
            import wire
            header, _ = wire.read_frame(sys.stdin.buffer)
            wire.write_frame(sys.stdout.buffer, {"ok": True, "result": {"protocol": 99, "engine": "future"}})
            """
        #expect(throws: WorkerError.versionMismatch(worker: 99, client: WireProtocol.version)) {
            try WorkerConnection(executable: python, arguments: ["python3", "-c", fake])
        }
        #expect(throws: WorkerError.self) { try WorkerConnection(executable: python, arguments: ["python3", "-c", "import sys; sys.stdout.write('hello')"]) }
    }
}
