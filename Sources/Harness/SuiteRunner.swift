import Claims
import Evidence
import Foundation
import Profiling
import Recording

/// Builds the resources claims read for one subject of a suite (the engine provides the real one).
public typealias ResourceFactory = @Sendable (Suite, Subject) throws -> any ClaimResources

/// Where a run happens: revision, environment and command line.
public struct RunProvenance: Sendable {
    public var revision: RevisionInfo
    public var environment: EnvironmentInfo
    public var argv: [String]

    public init(revision: RevisionInfo, environment: EnvironmentInfo, argv: [String]) {
        self.revision = revision
        self.environment = environment
        self.argv = argv
    }
}

/// What a suite run produced.
public struct SuiteRunReport: Sendable {
    public var run: RunRecord
    public var verdicts: [MetricVerdict]
    /// The OR of finding bits (see ``ExitCodes``).
    public var exitCode: Int32
    public var runFile: URL
    /// Which rule judged the deterministic metrics (bitwise, cross-class tolerance, or no baseline).
    public var regime: ComparisonRegime
}

/// Harness failures that stop a run before or outside the claims themselves.
public enum HarnessError: Error, Sendable, CustomStringConvertible {
    /// The suite names something this build or its inputs cannot provide (exit 65).
    case badInput(String)
    /// Recording failed (exit 70, or 65 for malformed baselines).
    case recording(RecordingError)

    public var description: String {
        switch self {
        case .badInput(let message): message
        case .recording(let error): error.description
        }
    }

    /// The process exit code this error maps to.
    public var exitCode: Int32 {
        switch self {
        case .badInput: ExitCodes.badInput
        case .recording(let error): error.isBadInput ? ExitCodes.badInput : ExitCodes.internalError
        }
    }
}

/// Runs every claim of a suite on the model and its controls, records, and compares with baselines.
public struct SuiteRunner: Sendable {
    public var suite: Suite
    public var registry: ClaimRegistry
    public var resources: ResourceFactory
    public var provenance: RunProvenance
    public var store: ResultStore
    public var runsDirectory: URL
    public var baselinesDirectory: URL
    public var strict: Bool
    public var progress: @Sendable (String) -> Void
    /// Counts, rate and ETA per check and for forward passes (nil: only the `progress` lines).
    public var reporter: ProgressReporter?
    /// Saves the states every check × subject reads (`--save-states`); nil: nothing saved.
    public var stateExporter: StateExporter?
    /// Recorded states the run reads instead of running a model (`--states`): the model's identity is
    /// the manifest's, the corpora are not sampled again, and checks that run a model need an engine.
    public var savedStates: SavedStates?

    public init(suite: Suite, registry: ClaimRegistry, resources: @escaping ResourceFactory, provenance: RunProvenance,
                store: ResultStore, runsDirectory: URL, baselinesDirectory: URL, strict: Bool = false,
                progress: @escaping @Sendable (String) -> Void = SuiteRunner.printToStandardError,
                reporter: ProgressReporter? = nil) {
        self.suite = suite
        self.registry = registry
        self.resources = resources
        self.provenance = provenance
        self.store = store
        self.runsDirectory = runsDirectory
        self.baselinesDirectory = baselinesDirectory
        self.strict = strict
        self.progress = progress
        self.reporter = reporter
    }

    /// Writes a progress line to stderr.
    @Sendable public static func printToStandardError(_ line: String) {
        StandardStreams.writeError(line + "\n")
    }

    /// Checks the suite against the registry, hashes the inputs, runs, records and judges.
    public func run() throws(HarnessError) -> SuiteRunReport {
        try Self.validate(suite, against: registry)
        let artifacts = try hashArtifacts()
        do {
            let aborted = try store.abortStaleRuns()
            if !aborted.isEmpty { progress("marked \(aborted.count) stale run(s) aborted: \(aborted.joined(separator: ", "))") }
        } catch { throw .recording(error) }
        let timingReference = previousRunOnThisMachine()

        var record = RunRecord(
            suite: suite.name, suiteSHA256: suite.sha256,
            modelSHA256: artifacts.first { $0.role == "model" }!.sha256,
            corporaSHA256: Dictionary(uniqueKeysWithValues: artifacts.filter { $0.kind == "corpus" }.map { (String($0.role.dropFirst("corpus:".count)), $0.sha256) }),
            artifacts: artifacts, masterSeed: suite.seed, argv: provenance.argv, revision: provenance.revision,
            environment: provenance.environment)
        do { try store.beginRun(record) } catch { throw .recording(error) }
        progress("run \(record.id): suite \(suite.name), \(suite.claims.count) claim(s), commit \(provenance.revision.commitSHA?.prefix(12) ?? "none")\(provenance.revision.isDirty ? " (dirty)" : "")")

        var resourceCache: [Subject: any ClaimResources] = [:]
        if savedStates == nil { try preflightSampling(cache: &resourceCache) }
        let checkCount = suite.claims.reduce(0) { $0 + 1 + $1.controls.count }
        var checksDone = 0
        reporter?.begin("checks", total: checkCount, unit: "checks")
        defer { reporter?.end() }
        for claimRun in suite.claims {
            let claim = registry.claim(claimRun.id)!
            let subjects: [(Subject, Verdict?)] = [(.model, nil)] + claimRun.controls.map { (.control($0.name), $0.expect) }
            for (subject, expected) in subjects {
                reporter?.advance(to: checksDone, detail: "\(claim.id)/\(subject)")
                let result = runOne(claim, claimRun, subject: subject, expected: expected, cache: &resourceCache)
                checksDone += 1
                reporter?.advance(to: checksDone)
                record.results.append(result)
                do { try store.appendResult(result, runID: record.id) } catch {
                    try? store.finishRun(id: record.id, status: .failed)
                    throw .recording(error)
                }
                let seconds = Double(result.durationNS) / 1e9
                let counts = reporter?.outerStatus().map { "  [\($0)]" } ?? ""
                progress("  \(result.check): \(result.verdict.rawValue)\(expected.map { " (expected \($0.rawValue))" } ?? "") in \(String(format: "%.2f", seconds)) s\(result.error.map { " — \($0)" } ?? "")\(counts)")
            }
        }

        reporter?.end()
        record.status = .complete
        record.finishedAt = Date().timeIntervalSince1970
        if let stateExporter {
            let manifest = try stateExporter.finish(record, engine: provenance.environment.engine)
            progress("states of every check saved: \(manifest.path)")
        }
        let runFile: URL
        let verdicts: [MetricVerdict]
        let regime: ComparisonRegime
        do throws(RecordingError) {
            runFile = try RunFile.write(record, to: runsDirectory)
            let fileHash = try? SHA256.hex(fileAt: runFile)
            let finishedAt = record.finishedAt ?? Date().timeIntervalSince1970
            do throws(RecordingError) {
                let baseline = try Comparator.baseline(for: record, in: baselinesDirectory)
                regime = ComparisonRegime.of(run: record, baseline: baseline)
                verdicts = Comparator.compare(run: record, baseline: baseline, timingReference: timingReference)
            } catch {
                // The run itself is whole: record it complete (flagged as judged by nobody), then report the baseline.
                try store.finishRun(id: record.id, status: .complete, finishedAt: finishedAt, runFileSHA256: fileHash)
                throw error
            }
            // Complete and its verdicts in one transaction: a kill can leave the run unfinished, never unjudged.
            try store.finishRun(id: record.id, status: .complete, finishedAt: finishedAt, runFileSHA256: fileHash, verdicts: verdicts)
        } catch { throw .recording(error) }
        let code = ExitCodes.findings(verdicts, strict: strict)
        progress("run \(record.id) complete; findings exit code \(code)")
        return SuiteRunReport(run: record, verdicts: verdicts, exitCode: code, runFile: runFile, regime: regime)
    }

    /// Checks that every claim and control the suite names exists in `registry`; errors point at the suite line.
    public static func validate(_ suite: Suite, against registry: ClaimRegistry) throws(HarnessError) {
        for claimRun in suite.claims {
            guard let claim = registry.claim(claimRun.id) else {
                let known = registry.ids.isEmpty ? "this build registers no claims yet" : "known: \(registry.ids.joined(separator: ", "))"
                throw .badInput("\(suite.file.path):\(claimRun.line): key 'claims.id': unknown claim '\(claimRun.id)' (\(known))")
            }
            for control in claimRun.controls where !claim.controls.contains(control.name) {
                throw .badInput("\(suite.file.path):\(claimRun.line): claim \(claimRun.id) has no control '\(control.name)' (it knows: \(claim.controls.joined(separator: ", ")))")
            }
        }
    }

    /// Draws every claim's sequences (tokenizing each corpus once; the claims reuse them) so that a
    /// request the corpus cannot meet stops the run before any forward pass, naming the suite line.
    private func preflightSampling(cache: inout [Subject: any ClaimResources]) throws(HarnessError) {
        for (index, claimRun) in suite.claims.enumerated() {
            guard let requirement = registry.claim(claimRun.id)?.sampleRequirement, let corpus = claimRun.corpus,
                  let count = claimRun.sequenceCount, let tokens = claimRun.tokensPerSequence else { continue }
            do {
                let resources = try cache[.model] ?? self.resources(suite, .model)
                cache[.model] = resources
                let context = ClaimContext(parameters: claimRun.parameters, seed: claimRun.seed, subject: .model,
                                           resources: resources, sampling: Sampling(corpus: corpus, count: count, tokens: tokens))
                _ = try context.sequences(requirement.rule)
            } catch let error as ClaimError {
                throw .badInput("\(suite.file.path):\(claimRun.line): key 'claims[\(index)].sampling.count': \(claimRun.id) asks for \(count) \(requirement.rule.rawValue) of \(tokens) tokens from corpus '\(corpus)': \(error)")
            } catch {
                throw .badInput("\(suite.file.path): cannot prepare \(claimRun.id): \(error)")
            }
        }
    }

    private func hashArtifacts() throws(HarnessError) -> [ArtifactRecord] {
        var artifacts: [ArtifactRecord] = []
        func hashed(_ url: URL) throws(HarnessError) -> (String, Int64) {
            do {
                let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
                return (try SHA256.hex(fileAt: url), size)
            } catch {
                throw .badInput("\(url.path): cannot read: \(error)")
            }
        }
        if let savedStates {
            // The states stand for the model: its identity is the manifest's, checked against the suite when opened.
            artifacts.append(ArtifactRecord(kind: "model", role: "model", path: "states:\(savedStates.directory.path)",
                                            sha256: savedStates.modelSHA256, sizeBytes: 0))
            for corpus in suite.corpora.values.sorted(by: { $0.name < $1.name }) {
                artifacts.append(ArtifactRecord(kind: "corpus", role: "corpus:\(corpus.name)", path: corpus.declaredPath,
                                                sha256: corpus.sha256, sizeBytes: 0))
            }
            let suiteSize = (try? FileManager.default.attributesOfItem(atPath: suite.file.path)[.size] as? NSNumber)?.int64Value ?? 0
            artifacts.append(ArtifactRecord(kind: "suite", role: "suite", path: suite.file.path, sha256: suite.sha256, sizeBytes: suiteSize))
            return artifacts
        }
        let (modelHash, modelSize) = try hashed(suite.model.path)
        if modelHash != suite.model.sha256, suite.model.path.lastPathComponent == suite.model.file {
            throw .badInput("\(suite.model.path.path): sha256 \(modelHash) differs from the suite's \(suite.model.sha256) (\(suite.file.path) key 'model.sha256'); re-fetch the model with `rbench fetch \(ModelCatalog.model(sha256: suite.model.sha256)?.name ?? "MODEL") --force`")
        }
        artifacts.append(ArtifactRecord(kind: "model", role: "model", path: suite.model.path.path, sha256: modelHash, sizeBytes: modelSize))
        for corpus in suite.corpora.values.sorted(by: { $0.name < $1.name }) {
            let (hash, size) = try hashed(corpus.path)
            guard hash == corpus.sha256 else {
                throw .badInput("\(corpus.path.path): sha256 \(hash) differs from the suite's \(corpus.sha256) (\(suite.file.path) key 'corpora.\(corpus.name).sha256'); restore the file from shared/corpora")
            }
            artifacts.append(ArtifactRecord(kind: "corpus", role: "corpus:\(corpus.name)", path: corpus.declaredPath, sha256: hash, sizeBytes: size))
        }
        let suiteSize = (try? FileManager.default.attributesOfItem(atPath: suite.file.path)[.size] as? NSNumber)?.int64Value ?? 0
        artifacts.append(ArtifactRecord(kind: "suite", role: "suite", path: suite.file.path, sha256: suite.sha256, sizeBytes: suiteSize))
        return artifacts
    }

    /// The last complete run of this suite on the same machine and build: the reference for timings.
    private func previousRunOnThisMachine() -> RunRecord? {
        guard let id = try? store.resolveRun(nil, suite: suite.name), let run = try? store.loadRun(id: id),
              run.environment.fingerprint == provenance.environment.fingerprint else { return nil }
        return run
    }

    private func runOne(_ claim: any Claim, _ claimRun: Suite.ClaimRun, subject: Subject, expected: Verdict?,
                        cache: inout [Subject: any ClaimResources]) -> ResultRecord {
        let clock = ContinuousClock()
        let start = clock.now
        let phasesBefore = PhaseClock.snapshot()
        var judgement = Judgement(verdict: .error, criteria: [])
        var outcome = ClaimOutcome(metrics: [])
        var failure: String?
        do {
            var resources: any ClaimResources
            if let savedStates {
                resources = savedStates
            } else if let cached = cache[subject] {
                resources = cached
            } else {
                resources = try self.resources(suite, subject)
                cache[subject] = resources
            }
            if let stateExporter {
                resources = stateExporter.recorder(check: claimRun.recordedID, subject: subject, seed: claimRun.seed, base: resources)
            }
            let sampling = claimRun.corpus.flatMap { corpus in
                claimRun.sequenceCount.flatMap { count in
                    claimRun.tokensPerSequence.map { Sampling(corpus: corpus, count: count, tokens: $0) }
                }
            }
            var observe: (@Sendable (String, Int, Int) -> Void)?
            if let reporter { observe = { label, done, total in reporter.report(label, done: done, total: total) } }
            outcome = try claim.run(ClaimContext(parameters: claimRun.parameters, seed: claimRun.seed, subject: subject,
                                                 resources: resources, sampling: sampling, resampling: suite.resampling,
                                                 progress: observe))
            judgement = try claim.judge(outcome, subject: subject, overrides: claimRun.overrides)
        } catch ClaimError.needsEngine(let reason) {
            // Not computed, not failed: the verdict layer shows it as skipped.
            outcome = ClaimOutcome(metrics: [], notes: [reason])
            judgement = Judgement(verdict: .needsEngine, criteria: [])
        } catch {
            outcome = ClaimOutcome(metrics: [])
            judgement = Judgement(verdict: .error, criteria: [])
            failure = "\(error)"
        }
        let elapsed = clock.now - start
        let nanoseconds = UInt64(max(0, elapsed.components.seconds)) * 1_000_000_000 + UInt64(max(0, elapsed.components.attoseconds / 1_000_000_000))
        return ResultRecord(
            claimID: claimRun.recordedID, subject: subject.description, verdict: judgement.verdict, expectedVerdict: expected,
            seed: claimRun.seed, durationNS: nanoseconds, error: failure, notes: outcome.notes, criteria: judgement.criteria,
            metrics: outcome.metrics.map { MetricRecord(name: $0.name, layer: $0.layer, unit: $0.unit, value: $0.value,
                                                        interval: $0.interval, samples: $0.samples) },
            profile: PhaseProfile(PhaseClock.snapshot() - phasesBefore, wallNanoseconds: nanoseconds))
    }
}

/// Hooks `rbench run` reads: the shipped claims, the engine-backed resources, and the
/// engine facts recorded in the environment. Tests may replace them.
public enum HarnessDefaults {
    /// The claims this build knows.
    nonisolated(unsafe) public static var registry = ClaimCatalog.registry
    /// Builds resources for a subject.
    nonisolated(unsafe) public static var resources: ResourceFactory? = EngineResources.factory
    /// Engine facts for the environment record: BLAS build string, dispatched core type, threads, batch size.
    nonisolated(unsafe) public static var engineInfo: @Sendable () -> (blasConfig: String, blasCoreType: String, threads: Int, batchSize: Int) = EngineResources.engineInfo
}
