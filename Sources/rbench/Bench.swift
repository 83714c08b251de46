import BLASThreading
import ArgumentParser
import Engine
import Foundation
import Harness
import Recording

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill speed with the residual stream captured at every layer, or a whole suite's time.",
        discussion: """
        Runs PROMPTS × TOKENS tokens through the model with every residual state kept (last \
        position), and measures OpenBLAS sgemm in the same run: the engine's throughput is \
        quoted against that ceiling (≈0.21 GFLOP per token for SmolLM2), because absolute \
        figures on a shared machine are noisy.

        --weights chooses where the block matrices live: `dense` dequantizes them to Float32 \
        at load, `quantized` keeps the file's blocks and dequantizes each block just before it \
        runs, `auto` (the default) is dense up to 1 GiB of Float32 matrices. Both give the \
        same bits; the residency used and the peak RSS are printed.

        --suite NAME runs that suite instead (into a throw-away database, compared with no baseline) \
        and prints its wall time and the split per check and phase (as `rbench run --profile`), \
        next to sgemm measured before and after it and the engine's prefill rate on the suite's \
        model in the same run: the suite's time in sgemm-seconds and in prefill tokens is what \
        compares across machines. It also prints the suite's forward floor: its forward tokens times \
        the model's linear-layer FLOPs per token at that sgemm rate, a time the engine's Float32 GEMMs cannot beat \
        with the suite's token counts. `make bench` runs `rbench bench --suite smoke`.

        --blas-correction prints only the OpenBLAS kernel family rbench forces on this CPU (nothing \
        when OpenBLAS's own choice stands): OpenBLAS 0.3.21 gives a CPU it does not know its generic \
        Prescott kernels, 4–5× slower in sgemm, and rbench then restarts itself with \
        OPENBLAS_CORETYPE set. `make test` exports the same choice to the test processes.

        Examples:
          rbench bench --suite smoke
          rbench bench --model .models/SmolLM2-135M-Instruct.Q4_1.gguf
          rbench bench --model M.gguf --prompts 32 --tokens 64 --threads 2 --json
          rbench bench --model .models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --prompts 16 --weights quantized
          core=$(rbench bench --blas-correction); [ -z "$core" ] || export OPENBLAS_CORETYPE=$core

        Exit codes: 0 done, 64 usage error, 65 missing or malformed model, 70 internal error.
        """)

    @Option(help: "GGUF model file (with --suite: instead of the suite's model).") var model: String?
    @Option(help: "Time this suite (Suites/<name>.yaml or a path) instead of a bare prefill.") var suite: String?
    @Option(help: "With --suite: where the suite's model file is looked up.") var modelsDir = ".models"
    @Option(help: "With --suite: folders relative corpus paths are looked up in (repeatable).")
    var corpora: [String] = ["../shared/corpora", "corpora"]
    @Option(help: "Number of prompts.") var prompts = 32
    @Option(help: "Tokens per prompt.") var tokens = 64
    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Timed repetitions (the best is reported).") var repetitions = 5
    @Option(help: "Where the block matrices live: auto, dense or quantized.") var weights = "auto"
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Print only the OpenBLAS kernel family rbench forces on this CPU (empty when none).") var blasCorrection = false

    func validate() throws {
        for (name, value) in [("--prompts", prompts), ("--tokens", tokens), ("--threads", threads), ("--repetitions", repetitions)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value)).")
        }
        guard prompts.multipliedReportingOverflow(by: tokens).partialValue <= 1 << 20, prompts <= 1 << 20, tokens <= 1 << 20 else {
            throw ValidationError("--prompts × --tokens must be at most \(1 << 20) tokens.")
        }
        guard ResidencyPolicy(name: weights) != nil else {
            throw ValidationError("--weights must be auto, dense or quantized, not '\(weights)'.")
        }
        guard model != nil || suite != nil || blasCorrection else { throw ValidationError("Give --model FILE (prefill) or --suite NAME (a suite's time).") }
    }

    func run() throws {
        try withExitCodes {
            if blasCorrection {
                print(BLASKernels.forced ?? "")
            } else if let suite { try measureSuite(suite) } else { try measure(model!) }
        }
    }

    private func measure(_ model: String) throws {
        try checkModelExists(model)
        BLAS.setThreadCount(threads)
        let policy = ResidencyPolicy(name: weights) ?? .standard
        let languageModel = try LanguageModel(contentsOf: URL(fileURLWithPath: model), residency: policy)
        let c = languageModel.configuration
        // Deterministic, content-free token ids: speed does not depend on the text.
        let batch = (0..<prompts).map { p in (0..<tokens).map { t in (p * 7919 + t * 104_729 + 13) % c.vocabularySize } }
        let plan = CapturePlan.residuals(blockCount: c.blockCount)
        _ = try languageModel.capture(Array(batch.prefix(2)), plan: plan)  // warm-up
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            _ = try languageModel.capture(batch, plan: plan)
            times.append(seconds(ContinuousClock.now - start))
        }
        let gflops = measureSGEMMGigaflops()
        let best = times.min()!
        let tokensPerSecond = Double(prompts * tokens) / best
        let flopsPerToken = languageModel.prefillFlopsPerToken(contextLength: tokens)
        let ceiling = gflops * 1e9 / flopsPerToken
        let report = BenchReport(
            model: languageModel.origin, threads: threads, prompts: prompts, tokens: tokens,
            tokens_per_s: tokensPerSecond, seconds: times, sgemm_gflops: gflops,
            gflop_per_token: flopsPerToken / 1e9, ceiling_tokens_per_s: ceiling,
            ceiling_fraction: tokensPerSecond / ceiling, peak_rss_bytes: peakResidentBytes(),
            blas: BLAS.configuration, weight_residency: languageModel.residency.rawValue,
            residency_policy: policy.description, block_matrix_bytes: languageModel.blockMatrixBytes)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("""
            model            \(report.model)
            work             \(prompts) prompts × \(tokens) tokens, residual stream captured at all \(c.residualCount) states
            threads          \(threads)   (\(report.blas)\(BLASKernels.override.map { "; \($0)" } ?? ""))
            weights          \(report.weight_residency) (policy \(report.residency_policy)): block matrices \(String(format: "%.0f", Double(report.block_matrix_bytes) / 1_048_576)) MiB
            prefill          \(String(format: "%.0f", tokensPerSecond)) tok/s (best of \(repetitions): \(times.map { String(format: "%.3f s", $0) }.joined(separator: ", ")))
            sgemm            \(String(format: "%.1f", gflops)) GFLOP/s measured now → ceiling \(String(format: "%.0f", ceiling)) tok/s at \(String(format: "%.3f", flopsPerToken / 1e9)) GFLOP/token
            ceiling fraction \(String(format: "%.2f", report.ceiling_fraction))
            peak RSS         \(String(format: "%.0f", Double(report.peak_rss_bytes) / 1_048_576)) MiB
            """)
        }
    }
}

extension Bench {
    /// The suite's wall time, split per check and phase, against sgemm and the prefill rate measured in the same run.
    private func measureSuite(_ name: String) throws {
        let invocation = SuiteInvocation(suite: name, model: model, modelsDir: modelsDir, corpora: corpora, weights: weights)
        let prepared = try invocation.load()
        let parsed = prepared.suite
        BLAS.setThreadCount(threads)
        let sgemmBefore = measureSGEMMGigaflops()
        // The engine's prefill rate on the suite's model, all residual states captured (as the claims capture them).
        let languageModel = try LanguageModel(contentsOf: parsed.model.path, residency: ResidencyPolicy(name: weights) ?? .standard)
        let c = languageModel.configuration
        let batch = (0..<16).map { p in (0..<32).map { t in (p * 7919 + t * 104_729 + 13) % c.vocabularySize } }
        let plan = CapturePlan.residuals(blockCount: c.blockCount)
        _ = try languageModel.capture(Array(batch.prefix(2)), plan: plan)
        var prefill = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            _ = try languageModel.capture(batch, plan: plan)
            prefill = min(prefill, seconds(ContinuousClock.now - start))
        }
        let prefillRate = Double(16 * 32) / prefill

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rbench-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let store = try ResultStore(path: scratch.appendingPathComponent("bench.sqlite").path, access: .readWrite)
        let start = ContinuousClock.now
        let report = try invocation.run(prepared, store: store, runsDirectory: scratch.appendingPathComponent("runs"),
                                        baselinesDirectory: scratch.appendingPathComponent("Baselines"), strict: false,
                                        reporter: ProgressReporter.automatic(quiet: json))
        let wall = seconds(ContinuousClock.now - start)
        let sgemmAfter = measureSGEMMGigaflops()
        let sgemm = (sgemmBefore + sgemmAfter) / 2
        // A bound, so the faster measurement: the forward passes cannot beat the best sgemm seen.
        let floor = ForwardFloor(run: report.run, flopsPerToken: languageModel.prefillFlopsPerToken(contextLength: 0),
                                 sgemmGigaflops: max(sgemmBefore, sgemmAfter))
        let result = SuiteBenchReport(
            suite: parsed.name, model: languageModel.origin, threads: threads, wall_s: wall,
            sgemm_gflops_before: sgemmBefore, sgemm_gflops_after: sgemmAfter, sgemm_seconds: wall * sgemm,
            prefill_tokens_per_s: prefillRate, prefill_token_equivalents: wall * prefillRate,
            phases: report.run.results.reduce(into: [:]) { totals, result in
                for (phase, value) in result.profile?.seconds ?? [:] { totals[phase, default: 0] += value }
            },
            forward_tokens: floor.tokens, forward_s: floor.measuredSeconds, forward_floor_s: floor.seconds,
            peak_rss_bytes: peakResidentBytes(), blas: BLAS.configuration, verdicts_ok: report.exitCode == 0)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("\nWhere the time went (seconds; statistics is the rest of each check's wall time):")
        print(ProfileReport.table(report.run), terminator: "")
        print("""

        suite            \(parsed.name) on \(result.model): \(String(format: "%.1f", wall)) s wall, \(threads) threads (\(result.blas))
        sgemm            \(String(format: "%.1f", sgemmBefore)) GFLOP/s before, \(String(format: "%.1f", sgemmAfter)) after \
        (\(String(format: "%+.0f", (sgemmAfter / sgemmBefore - 1) * 100)) %: the machine's load moved by that much)
        suite in sgemm   \(String(format: "%.0f", result.sgemm_seconds)) GFLOP-equivalents (wall × mean sgemm rate: compare this across machines)
        prefill          \(String(format: "%.0f", prefillRate)) tok/s (16 × 32 tokens, all states captured) → the suite costs \
        \(String(format: "%.0f", result.prefill_token_equivalents)) prefill tokens
        forward floor    \(floor.tokens) forward tokens × \(String(format: "%.3f", floor.flopsPerToken / 1e9)) GFLOP (linear layers) \
        at \(String(format: "%.1f", floor.sgemmGigaflops)) GFLOP/s ≥ \(String(format: "%.1f", floor.seconds)) s; they took \
        \(String(format: "%.1f", floor.measuredSeconds)) s\(floor.efficiency.map { String(format: " (%.2f of the sgemm rate)", $0) } ?? ""). \
        A suite time below the floor needs fewer tokens or other arithmetic.
        peak RSS         \(String(format: "%.0f", Double(result.peak_rss_bytes) / 1_048_576)) MiB
        """)
        if report.exitCode != 0 { printNote("the suite's own verdicts were not all as expected (exit \(report.exitCode) in `rbench run`); timing is still valid") }
    }
}

struct SuiteBenchReport: Codable {
    var suite: String
    var model: String
    var threads: Int
    var wall_s: Double
    var sgemm_gflops_before: Double
    var sgemm_gflops_after: Double
    var sgemm_seconds: Double
    var prefill_tokens_per_s: Double
    var prefill_token_equivalents: Double
    var phases: [String: Double]
    /// The forward tokens, their measured seconds, and the least seconds sgemm allows (``ForwardFloor``).
    var forward_tokens: Int
    var forward_s: Double
    var forward_floor_s: Double
    var peak_rss_bytes: Int
    var blas: String
    var verdicts_ok: Bool
}

struct BenchReport: Codable {
    var model: String
    var threads: Int
    var prompts: Int
    var tokens: Int
    var tokens_per_s: Double
    var seconds: [Double]
    var sgemm_gflops: Double
    var gflop_per_token: Double
    var ceiling_tokens_per_s: Double
    var ceiling_fraction: Double
    var peak_rss_bytes: Int
    var blas: String
    var weight_residency: String
    var residency_policy: String
    var block_matrix_bytes: Int
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Peak resident set size of this process (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kilobytes * 1024
}
