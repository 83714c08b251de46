import Evidence
import Foundation
import GRDB

/// A row of `rbench runs`.
public struct RunSummary: Sendable, Equatable {
    public var id: String
    public var status: RunStatus
    public var startedAt: Double
    public var suite: String
    public var commitSHA: String?
    public var isDirty: Bool
    public var determinismClass: String
    public var resultCount: Int
}

/// One point of a metric's history: the latest complete run at one revision.
public struct HistoryPoint: Sendable, Equatable, Codable {
    public var commitSHA: String?
    public var isDirty: Bool
    public var commitTime: Int64?
    public var runID: String
    public var check: String
    public var value: Double
    /// What must be equal for two points to lie on one line (see ``HistoryPoint/Comparability``).
    public var comparability: Comparability

    /// Runs whose values may be joined: the same model, corpora, suite definition and determinism class.
    public struct Comparability: Sendable, Hashable, Codable {
        public var modelSHA256: String
        public var suiteSHA256: String
        /// The corpora as `name=sha256` pairs, sorted by name.
        public var corporaSHA256: String
        public var determinismClass: String

        public init(modelSHA256: String, suiteSHA256: String, corporaSHA256: [String: String], determinismClass: String) {
            self.modelSHA256 = modelSHA256
            self.suiteSHA256 = suiteSHA256
            self.corporaSHA256 = corporaSHA256.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            self.determinismClass = determinismClass
        }

        public init(_ run: RunRecord) {
            self.init(modelSHA256: run.modelSHA256, suiteSHA256: run.suiteSHA256, corporaSHA256: run.corporaSHA256,
                      determinismClass: run.environment.determinismClass)
        }

        /// The inputs on which `self` differs from `other`, for the line that says why a history splits.
        public func differences(from other: Comparability) -> [String] {
            var fields: [String] = []
            if modelSHA256 != other.modelSHA256 { fields.append("model hash (\(modelSHA256.prefix(7)) vs \(other.modelSHA256.prefix(7)))") }
            if corporaSHA256 != other.corporaSHA256 { fields.append("corpus hashes") }
            if suiteSHA256 != other.suiteSHA256 { fields.append("suite hash (\(suiteSHA256.prefix(7)) vs \(other.suiteSHA256.prefix(7)))") }
            if determinismClass != other.determinismClass {
                fields.append("determinism class (\(determinismClass.prefix(8)) vs \(other.determinismClass.prefix(8)))")
            }
            return fields
        }
    }
}

/// The SQLite results database (WAL, foreign keys, ≥ 5 s busy timeout, versioned migrations).
///
/// A run is written as it goes (one transaction per result) and marked `complete` last, so a
/// killed run is never complete; the next ``abortStaleRuns()`` marks it `aborted`.
public final class ResultStore: Sendable {
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws(RecordingError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw .database(path: path, message: "cannot open: \(error)")
        }
        do {
            try Schema.migrator.migrate(pool)
        } catch {
            // Another process may have migrated concurrently; only fail if work is still pending.
            let done = (try? pool.read { db in try Schema.migrator.hasCompletedMigrations(db) }) ?? false
            if !done { throw .database(path: path, message: "migration failed: \(error)") }
        }
    }

    /// The identifiers of the migrations applied to this database.
    public func appliedMigrations() throws(RecordingError) -> [String] {
        try guarded("read migrations") { try pool.read { db in try Schema.migrator.appliedMigrations(db) } }
    }

    // MARK: Writing a run

    /// Marks `running` runs whose owning process is gone as `aborted`; returns their ids.
    ///
    /// The lease names host, pid and process start time: a live run on this host keeps its
    /// status, a reused pid does not keep a dead run alive, and runs leased on another host
    /// are left alone (we cannot see their processes).
    @discardableResult
    public func abortStaleRuns() throws(RecordingError) -> [String] {
        try guarded("abort stale runs") {
            try pool.write { db in
                let rows = try Row.fetchAll(db, sql: "SELECT id, lease_owner FROM run WHERE status = 'running'")
                var aborted: [String] = []
                for row in rows {
                    let id: String = row["id"]
                    let lease: String? = row["lease_owner"]
                    guard let lease, let owner = ProcessLease(lease), owner.host == ProcessLease.current.host,
                          !owner.isAlive else { continue }
                    try db.execute(sql: "UPDATE run SET status = 'aborted', finished_at = ? WHERE id = ?",
                                   arguments: [Date().timeIntervalSince1970, id])
                    aborted.append(id)
                }
                return aborted
            }
        }
    }

    /// Inserts the run (status `running`, leased to this process) with its revision, environment and artifacts.
    public func beginRun(_ run: RunRecord) throws(RecordingError) {
        try guarded("begin run \(run.id)") {
            try pool.write { db in try insertHeader(run, status: .running, lease: ProcessLease.current.text, db: db) }
        }
    }

    /// Appends one result with its metrics and samples in one transaction.
    public func appendResult(_ result: ResultRecord, runID: String) throws(RecordingError) {
        try guarded("record \(result.check) in run \(runID)") {
            try pool.write { db in try insertResult(result, runID: runID, db: db) }
        }
    }

    /// Ends a run; `complete` is written last, after every result.
    public func finishRun(id: String, status: RunStatus, finishedAt: Double = Date().timeIntervalSince1970,
                          runFileSHA256: String? = nil) throws(RecordingError) {
        try guarded("finish run \(id)") {
            try pool.write { db in
                try db.execute(sql: "UPDATE run SET status = ?, finished_at = ?, run_file_sha256 = ?, lease_owner = NULL WHERE id = ?",
                               arguments: [status.rawValue, finishedAt, runFileSHA256, id])
                if db.changesCount == 0 { throw RecordingError.notFound("run \(id) is not in \(path)") }
            }
        }
    }

    /// Inserts a whole run from its run file; returns false when the run id is already present.
    @discardableResult
    public func importRun(_ run: RunRecord) throws(RecordingError) -> Bool {
        try guarded("import run \(run.id)") {
            try pool.write { db in
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [run.id]) == true { return false }
                // A run file of a run that never finished cannot resume: import it as aborted.
                let status: RunStatus = run.status == .running ? .aborted : run.status
                try insertHeader(run, status: status, lease: nil, db: db)
                try db.execute(sql: "UPDATE run SET finished_at = ? WHERE id = ?", arguments: [run.finishedAt, run.id])
                for result in run.results { try insertResult(result, runID: run.id, db: db) }
                return true
            }
        }
    }

    private func insertHeader(_ run: RunRecord, status: RunStatus, lease: String?, db: Database) throws {
        let revision = run.revision
        try db.execute(sql: """
            INSERT INTO revision (key, in_repository, commit_sha, branch, describe, is_dirty, dirty_diff_sha256, commit_time)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING
            """, arguments: [revision.storageKey, revision.inRepository, revision.commitSHA, revision.branch,
                             revision.describe, revision.isDirty, revision.dirtyDiffSHA256, revision.commitTime])
        let revisionID = try Int64.fetchOne(db, sql: "SELECT id FROM revision WHERE key = ?", arguments: [revision.storageKey])!

        let environment = run.environment
        let rawJSON = String(decoding: try JSONEncoder.sorted.encode(environment), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO environment (fingerprint, determinism_class, hostname, os_name, kernel, cpu_model, cpu_arch,
                isa_features, threads, swift_version, build_config, blas_config, blas_core_type, batch_size, raw_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(fingerprint) DO NOTHING
            """, arguments: [environment.fingerprint, environment.determinismClass, environment.hostname,
                             environment.osName, environment.kernel, environment.cpuModel, environment.cpuArch,
                             environment.isaFeatures.joined(separator: ","), environment.threads,
                             environment.swiftVersion, environment.buildConfig, environment.blasConfig,
                             environment.blasCoreType, environment.batchSize, rawJSON])
        let environmentID = try Int64.fetchOne(db, sql: "SELECT id FROM environment WHERE fingerprint = ?",
                                               arguments: [environment.fingerprint])!

        let corpora = String(decoding: try JSONEncoder.sorted.encode(run.corporaSHA256), as: UTF8.self)
        let argv = String(decoding: try JSONEncoder.sorted.encode(run.argv), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO run (id, status, started_at, revision_id, environment_id, suite_name, suite_sha256,
                model_sha256, corpora_json, master_seed, argv, lease_owner)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [run.id, status.rawValue, run.startedAt, revisionID, environmentID, run.suite,
                             run.suiteSHA256, run.modelSHA256, corpora, Int64(bitPattern: run.masterSeed), argv, lease])
        for artifact in run.artifacts {
            try db.execute(sql: """
                INSERT INTO artifact (kind, path, sha256, size_bytes) VALUES (?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING
                """, arguments: [artifact.kind, artifact.path, artifact.sha256, artifact.sizeBytes])
            try db.execute(sql: """
                INSERT INTO run_artifact (run_id, artifact_id, role)
                SELECT ?, id, ? FROM artifact WHERE sha256 = ?
                """, arguments: [run.id, artifact.role, artifact.sha256])
        }
    }

    private func insertResult(_ result: ResultRecord, runID: String, db: Database) throws {
        let notes = String(decoding: try JSONEncoder.sorted.encode(result.notes), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO result (run_id, claim_id, subject, claim_verdict, expected_verdict, seed, duration_ns, error, notes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [runID, result.claimID, result.subject, result.verdict.rawValue,
                             result.expectedVerdict?.rawValue, Int64(bitPattern: result.seed),
                             Int64(clamping: result.durationNS), result.error, notes])
        let resultID = db.lastInsertedRowID
        for (position, criterion) in result.criteria.enumerated() {
            let interval = criterion.interval
            try db.execute(sql: """
                INSERT INTO criterion (result_id, position, name, statistic, comparison, threshold, threshold_bits,
                    observed, observed_bits, ci_low, ci_low_bits, ci_high, ci_high_bits, ci_level, ci_method,
                    ci_replicates, ci_n, ci_unit, outcome, summary, override_value, override_reason, override_original)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: StatementArguments([
                    resultID, position, criterion.name, criterion.statistic, criterion.comparison.rawValue,
                    criterion.threshold.nonNaN, FloatBits.storageInteger(criterion.threshold),
                    criterion.observed.nonNaN, FloatBits.storageInteger(criterion.observed),
                    interval?.low.nonNaN, interval.map { FloatBits.storageInteger($0.low) },
                    interval?.high.nonNaN, interval.map { FloatBits.storageInteger($0.high) },
                    interval?.level, interval?.method.rawValue, interval?.replicates, interval?.sampleSize, interval?.unit,
                    criterion.outcome.rawValue, criterion.summary, criterion.override?.value, criterion.override?.reason,
                    criterion.override?.original,
                ] as [(any DatabaseValueConvertible)?]))
        }
        for metric in result.metrics {
            let interval = metric.interval
            try db.execute(sql: """
                INSERT INTO metric (result_id, name, layer, unit, value, value_bits, n, ci_low_bits, ci_high_bits,
                    ci_level, ci_method, ci_replicates, ci_n, ci_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: StatementArguments([
                    resultID, metric.name, metric.layer, metric.unit, metric.value.nonNaN,
                    FloatBits.storageInteger(metric.value), metric.samples?.count ?? 1,
                    interval.map { FloatBits.storageInteger($0.low) }, interval.map { FloatBits.storageInteger($0.high) },
                    interval?.level, interval?.method.rawValue, interval?.replicates, interval?.sampleSize, interval?.unit,
                ] as [(any DatabaseValueConvertible)?]))
            let metricID = db.lastInsertedRowID
            for (index, sample) in (metric.samples ?? []).enumerated() {
                try db.execute(sql: "INSERT INTO sample (metric_id, idx, value, value_bits) VALUES (?, ?, ?, ?)",
                               arguments: [metricID, index, sample.isNaN ? nil : sample, FloatBits.storageInteger(sample)])
            }
        }
    }

    // MARK: Reading

    /// Runs, newest first.
    public func runs(limit: Int = 50) throws(RecordingError) -> [RunSummary] {
        try guarded("list runs") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT run.id, run.status, run.started_at, run.suite_name, revision.commit_sha, revision.is_dirty,
                        environment.determinism_class, (SELECT count(*) FROM result WHERE result.run_id = run.id) AS results
                    FROM run JOIN revision ON revision.id = run.revision_id
                    JOIN environment ON environment.id = run.environment_id
                    ORDER BY run.started_at DESC, run.id LIMIT ?
                    """, arguments: [limit]).map { row in
                    RunSummary(id: row["id"], status: RunStatus(rawValue: row["status"]) ?? .aborted,
                               startedAt: row["started_at"], suite: row["suite_name"], commitSHA: row["commit_sha"],
                               isDirty: row["is_dirty"], determinismClass: row["determinism_class"],
                               resultCount: row["results"])
                }
            }
        }
    }

    /// The status of one run, nil when unknown.
    public func status(ofRun id: String) throws(RecordingError) -> RunStatus? {
        try guarded("read run \(id)") {
            try pool.read { db in
                try String.fetchOne(db, sql: "SELECT status FROM run WHERE id = ?", arguments: [id]).flatMap(RunStatus.init)
            }
        }
    }

    /// Resolves a run reference: a run id (or unique prefix), a commit sha prefix (latest complete run at
    /// that commit), or nil for the latest complete run (of `suite` when given).
    public func resolveRun(_ reference: String?, suite: String? = nil) throws(RecordingError) -> String {
        let found: String? = try guarded("resolve run") {
            try pool.read { db in
                let suiteFilter = suite == nil ? "" : " AND run.suite_name = ?"
                var base: [any DatabaseValueConvertible] = []
                if let suite { base.append(suite) }
                guard let reference else {
                    return try String.fetchOne(db, sql: "SELECT id FROM run WHERE status = 'complete'\(suiteFilter) ORDER BY started_at DESC LIMIT 1",
                                               arguments: StatementArguments(base))
                }
                let byID = try String.fetchAll(db, sql: "SELECT id FROM run WHERE id LIKE ? || '%'\(suiteFilter)",
                                               arguments: StatementArguments([reference] + base))
                if byID.count == 1 { return byID[0] }
                if byID.count > 1 { throw RecordingError.notFound("run reference '\(reference)' is ambiguous (\(byID.count) runs)") }
                return try String.fetchOne(db, sql: """
                    SELECT run.id FROM run JOIN revision ON revision.id = run.revision_id
                    WHERE run.status = 'complete' AND revision.commit_sha LIKE ? || '%'\(suiteFilter)
                    ORDER BY revision.is_dirty, run.started_at DESC LIMIT 1
                    """, arguments: StatementArguments([reference] + base))
            }
        }
        guard let found else {
            throw .notFound(reference.map { "no run or complete run at commit matches '\($0)' in \(path)" }
                            ?? "no complete run\(suite.map { " of suite \($0)" } ?? "") in \(path); run `rbench run` first")
        }
        return found
    }

    /// Rebuilds the full record of a run from the database.
    public func loadRun(id: String) throws(RecordingError) -> RunRecord {
        let run: RunRecord? = try guarded("load run \(id)") {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT run.*, revision.in_repository, revision.commit_sha, revision.branch, revision.describe,
                        revision.is_dirty, revision.dirty_diff_sha256, revision.commit_time, environment.raw_json
                    FROM run JOIN revision ON revision.id = run.revision_id
                    JOIN environment ON environment.id = run.environment_id WHERE run.id = ?
                    """, arguments: [id]) else { return nil }
                let decoder = JSONDecoder()
                let revision = RevisionInfo(inRepository: row["in_repository"], commitSHA: row["commit_sha"],
                                            branch: row["branch"], isDirty: row["is_dirty"],
                                            dirtyDiffSHA256: row["dirty_diff_sha256"], describe: row["describe"],
                                            commitTime: row["commit_time"])
                let environment = try decoder.decode(EnvironmentInfo.self, from: Data((row["raw_json"] as String).utf8))
                let artifacts = try Row.fetchAll(db, sql: """
                    SELECT artifact.kind, artifact.path, artifact.sha256, artifact.size_bytes, run_artifact.role
                    FROM run_artifact JOIN artifact ON artifact.id = run_artifact.artifact_id
                    WHERE run_artifact.run_id = ? ORDER BY run_artifact.role
                    """, arguments: [id]).map { artifact in
                    ArtifactRecord(kind: artifact["kind"], role: artifact["role"], path: artifact["path"],
                                   sha256: artifact["sha256"], sizeBytes: artifact["size_bytes"])
                }
                var record = RunRecord(
                    id: id, status: RunStatus(rawValue: row["status"]) ?? .aborted, startedAt: row["started_at"],
                    finishedAt: row["finished_at"], suite: row["suite_name"], suiteSHA256: row["suite_sha256"],
                    modelSHA256: row["model_sha256"],
                    corporaSHA256: try decoder.decode([String: String].self, from: Data((row["corpora_json"] as String).utf8)),
                    artifacts: artifacts, masterSeed: UInt64(bitPattern: row["master_seed"]),
                    argv: try decoder.decode([String].self, from: Data((row["argv"] as String).utf8)),
                    revision: revision, environment: environment)
                record.results = try loadResults(runID: id, db: db)
                return record
            }
        }
        guard let run else { throw .notFound("run \(id) is not in \(path)") }
        return run
    }

    private func loadResults(runID: String, db: Database) throws -> [ResultRecord] {
        let samples = try Row.fetchAll(db, sql: """
            SELECT sample.metric_id, sample.value_bits FROM sample JOIN metric ON metric.id = sample.metric_id
            JOIN result ON result.id = metric.result_id WHERE result.run_id = ? ORDER BY sample.metric_id, sample.idx
            """, arguments: [runID])
        var samplesByMetric: [Int64: [Double]] = [:]
        for sample in samples {
            samplesByMetric[sample["metric_id"], default: []].append(FloatBits.double(fromStorage: sample["value_bits"]))
        }
        let metricRows = try Row.fetchAll(db, sql: """
            SELECT metric.* FROM metric JOIN result ON result.id = metric.result_id WHERE result.run_id = ? ORDER BY metric.id
            """, arguments: [runID])
        var metricsByResult: [Int64: [MetricRecord]] = [:]
        for row in metricRows {
            let metricID: Int64 = row["id"]
            let metric = MetricRecord(name: row["name"], layer: row["layer"], unit: row["unit"],
                                      value: FloatBits.double(fromStorage: row["value_bits"]),
                                      interval: Self.interval(row), samples: samplesByMetric[metricID])
            metricsByResult[row["result_id"], default: []].append(metric)
        }
        var criteriaByResult: [Int64: [Criterion]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT criterion.* FROM criterion JOIN result ON result.id = criterion.result_id WHERE result.run_id = ?
            ORDER BY criterion.result_id, criterion.position
            """, arguments: [runID]) {
            let overrideValue: Double? = row["override_value"]
            let override = overrideValue.map { ThresholdOverride(value: $0, reason: row["override_reason"] ?? "",
                                                                 original: row["override_original"] ?? .nan) }
            let comparison: String = row["comparison"], outcome: String = row["outcome"]
            criteriaByResult[row["result_id"], default: []].append(Criterion(
                name: row["name"], statistic: row["statistic"], comparison: Comparison(rawValue: comparison) ?? .atLeast,
                threshold: FloatBits.double(fromStorage: row["threshold_bits"]),
                observed: FloatBits.double(fromStorage: row["observed_bits"]), interval: Self.interval(row),
                outcome: CriterionOutcome(rawValue: outcome) ?? .undecided, summary: row["summary"], override: override))
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM result WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
            let resultID: Int64 = row["id"]
            let expected: String? = row["expected_verdict"]
            return ResultRecord(
                claimID: row["claim_id"], subject: row["subject"],
                verdict: RecordedVerdict(rawValue: row["claim_verdict"]) ?? .error,
                expectedVerdict: expected.flatMap(RecordedVerdict.init), seed: UInt64(bitPattern: row["seed"]),
                durationNS: UInt64(clamping: row["duration_ns"] as Int64), error: row["error"],
                notes: try JSONDecoder().decode([String].self, from: Data((row["notes"] as String).utf8)),
                criteria: criteriaByResult[resultID] ?? [], metrics: metricsByResult[resultID] ?? [])
        }
    }

    /// The interval stored in a metric or criterion row's `ci_*` columns, nil when it has none.
    private static func interval(_ row: Row) -> Interval? {
        guard let low: Int64 = row["ci_low_bits"], let high: Int64 = row["ci_high_bits"], let level: Double = row["ci_level"],
              let methodName: String = row["ci_method"], let method = IntervalMethod(rawValue: methodName) else { return nil }
        return Interval(low: FloatBits.double(fromStorage: low), high: FloatBits.double(fromStorage: high), level: level,
                        method: method, replicates: row["ci_replicates"] ?? 0, sampleSize: row["ci_n"] ?? 0,
                        unit: row["ci_unit"] ?? "")
    }

    /// One value per revision (the latest complete run there), oldest commit first; runs that are
    /// not comparable (``HistoryPoint/Comparability``) give separate points, to be drawn as separate series.
    ///
    /// `metric` is a metric key (`name` or `name[layer]`), optionally prefixed by a check: `TD-1/model:corr[3]`.
    public func history(metric: String, suite: String? = nil) throws(RecordingError) -> [HistoryPoint] {
        var check: String?
        var key = metric
        if let colon = metric.firstIndex(of: ":") {
            check = String(metric[..<colon])
            key = String(metric[metric.index(after: colon)...])
        }
        let filterCheck = check
        let filterKey = key
        return try guarded("history of \(metric)") {
            try pool.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT run.id AS run_id, run.started_at, revision.id AS revision_id, revision.commit_sha,
                        revision.is_dirty, revision.commit_time, result.claim_id, result.subject, metric.name,
                        metric.layer, metric.value_bits, run.model_sha256, run.suite_sha256, run.corpora_json,
                        environment.determinism_class
                    FROM metric JOIN result ON result.id = metric.result_id JOIN run ON run.id = result.run_id
                    JOIN revision ON revision.id = run.revision_id JOIN environment ON environment.id = run.environment_id
                    WHERE run.status = 'complete' AND (? IS NULL OR run.suite_name = ?)
                    ORDER BY coalesce(revision.commit_time, 0), revision.id, run.started_at
                    """, arguments: [suite, suite])
                var latest: [String: HistoryPoint] = [:]
                var order: [String] = []
                for row in rows {
                    let name: String = row["name"]
                    let layer: Int? = row["layer"]
                    let rowKey = layer.map { "\(name)[\($0)]" } ?? name
                    let rowCheck = "\(row["claim_id"] as String)/\(row["subject"] as String)"
                    guard rowKey == filterKey, filterCheck == nil || filterCheck == rowCheck else { continue }
                    let corporaJSON: String = row["corpora_json"]
                    let corpora = (try? JSONDecoder().decode([String: String].self, from: Data(corporaJSON.utf8))) ?? ["?": corporaJSON]
                    let comparability = HistoryPoint.Comparability(
                        modelSHA256: row["model_sha256"], suiteSHA256: row["suite_sha256"], corporaSHA256: corpora,
                        determinismClass: row["determinism_class"])
                    // Incomparable runs at one revision are separate points (never the latest of one another).
                    let seriesKey = "\(row["revision_id"] as Int64)|\(rowCheck)|\(comparability.modelSHA256)|\(comparability.suiteSHA256)|\(comparability.corporaSHA256)|\(comparability.determinismClass)"
                    if latest[seriesKey] == nil { order.append(seriesKey) }
                    latest[seriesKey] = HistoryPoint(commitSHA: row["commit_sha"], isDirty: row["is_dirty"],
                                                     commitTime: row["commit_time"], runID: row["run_id"], check: rowCheck,
                                                     value: FloatBits.double(fromStorage: row["value_bits"]),
                                                     comparability: comparability)
                }
                return order.compactMap { latest[$0] }
            }
        }
    }

    // MARK: Verdicts

    /// Persists verdicts with their inputs (the audit trail).
    public func saveVerdicts(_ verdicts: [MetricVerdict], runID: String) throws(RecordingError) {
        let now = Date().timeIntervalSince1970
        try guarded("save verdicts of run \(runID)") {
            try pool.write { db in
                for verdict in verdicts {
                    let thresholds = String(decoding: try JSONEncoder.sorted.encode(verdict.thresholds), as: UTF8.self)
                    try db.execute(sql: """
                        INSERT INTO verdict (run_id, check_name, metric_key, regime, reference_kind, reference_id, method,
                            observed, observed_bits, reference_value, reference_bits, delta, rel_delta, ulp_distance,
                            p_value, effect, effect_ci_low, effect_ci_high, thresholds, n_head, n_base, outcome,
                            reason_code, detail, computed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: StatementArguments([
                            runID, verdict.check, verdict.metric, verdict.regime.rawValue, verdict.referenceKind,
                            verdict.referenceID, verdict.method, verdict.observed.flatMap(\.nonNaN),
                            verdict.observed.map(FloatBits.storageInteger), verdict.reference.flatMap(\.nonNaN),
                            verdict.reference.map(FloatBits.storageInteger), verdict.delta.flatMap(\.nonNaN),
                            verdict.relativeDelta.flatMap(\.nonNaN), verdict.ulpDistance.map { Int64(clamping: $0) },
                            verdict.pValue, verdict.effect, verdict.effectCILow, verdict.effectCIHigh, thresholds,
                            verdict.headCount, verdict.baseCount, verdict.outcome.rawValue, verdict.reason, verdict.detail, now,
                        ] as [(any DatabaseValueConvertible)?]))
                }
            }
        }
    }

    /// The number of verdict rows stored for a run.
    public func verdictCount(runID: String) throws(RecordingError) -> Int {
        try guarded("count verdicts") {
            try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM verdict WHERE run_id = ?", arguments: [runID]) ?? 0 }
        }
    }

    private func guarded<T>(_ what: String, _ body: () throws -> T) throws(RecordingError) -> T {
        do {
            return try body()
        } catch let error as RecordingError {
            throw error
        } catch {
            throw .database(path: path, message: "\(what): \(error)")
        }
    }
}

extension Double {
    /// nil for NaN, which SQLite would store as NULL anyway.
    var nonNaN: Double? { isNaN ? nil : self }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// Who owns a running run: host, pid and the process start time (so a reused pid is not mistaken for it).
struct ProcessLease: Equatable {
    var host: String
    var pid: Int32
    var startTicks: UInt64

    static let current = ProcessLease(host: ProcessInfo.processInfo.hostName, pid: getpid(),
                                      startTicks: startTicks(of: getpid()) ?? 0)

    init(host: String, pid: Int32, startTicks: UInt64) {
        self.host = host
        self.pid = pid
        self.startTicks = startTicks
    }

    init?(_ text: String) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[1]), let ticks = UInt64(parts[2]) else { return nil }
        self.init(host: String(parts[0]), pid: pid, startTicks: ticks)
    }

    var text: String { "\(host)|\(pid)|\(startTicks)" }

    /// True while the owning process exists and is the same process (same start time).
    var isAlive: Bool {
        guard let ticks = Self.startTicks(of: pid) else { return false }
        return ticks == startTicks
    }

    /// Field 22 of `/proc/<pid>/stat`; nil when the process does not exist (or is a zombie).
    static func startTicks(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); a zombie has exited already.
        guard fields.count > 19, fields[0] != "Z" else { return nil }
        return UInt64(fields[19])
    }
}
