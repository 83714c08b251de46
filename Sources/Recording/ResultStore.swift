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
    /// Verdict rows stored for the run.
    public var verdictCount: Int
    /// `host|pid|start` of the process recording it, while `running`.
    public var leaseOwner: String?
    /// `running` in the database but its process is gone (killed, crashed, machine rebooted): it
    /// will never finish. The next `rbench run` marks it `aborted`.
    public var isStale: Bool

    /// Complete, with results, but without a stored verdict: the process died after recording the
    /// run and before judging it, judging failed (e.g. a malformed baseline), or it was imported from a run
    /// file (`import` does not judge). `rbench check` judges it.
    public var verdictsMissing: Bool { status == .complete && verdictCount == 0 && resultCount > 0 }

    /// The status as people should read it: `stale` instead of `running` for a dead run.
    public var displayStatus: String { isStale ? "stale" : status.rawValue }
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
/// killed run is never complete; the next ``abortStaleRuns()`` marks it `aborted`, and until then
/// readers see it as stale (``RunSummary/isStale``).
///
/// A database that lists migrations this build does not know (written by a newer build), lacks a
/// column this build reads, or is not SQLite at all is refused with
/// ``RecordingError/incompatibleDatabase(path:message:)`` (exit 65) before any row is read.
public final class ResultStore: Sendable {
    /// How a command uses the database.
    public enum Access: Sendable, Equatable {
        /// Create the file if needed and apply pending migrations: commands that record (`run`, `import`).
        case readWrite
        /// Never create the file and never write to it: the reading commands (`runs`, `history`,
        /// `check`, `compare`, `report`, `baseline`). A read-only file is fine; an older schema is
        /// migrated first only when the file is writable (migrations only add).
        case readOnly
    }

    public let path: String
    /// True when opened with ``Access/readOnly``: every write then fails.
    public let isReadOnly: Bool
    private let database: any DatabaseWriter

    /// Opens the database at `path`; see ``Access``.
    public init(path: String, access: Access = .readWrite) throws(RecordingError) {
        self.path = path
        isReadOnly = access == .readOnly
        switch access {
        case .readWrite: database = try Self.openForWriting(path)
        case .readOnly: database = try Self.openForReading(path)
        }
    }

    private static func configuration(readOnly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.readonly = readOnly
        return configuration
    }

    private static func openForWriting(_ path: String) throws(RecordingError) -> DatabasePool {
        let pool: DatabasePool
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration(readOnly: false))
        } catch {
            throw classify(error, path: path, doing: "cannot open for writing")
        }
        let unknown = try unknownMigrations(pool, path: path)
        guard unknown.isEmpty else { throw newerBuild(path: path, unknown: unknown) }
        do {
            try Schema.migrator.migrate(pool)
        } catch {
            // Another process may have migrated concurrently; only fail if work is still pending.
            let done = (try? pool.read { db in try Schema.migrator.hasCompletedMigrations(db) }) ?? false
            if !done { throw classify(error, path: path, doing: "migration failed") }
        }
        try checkColumns(pool, path: path)
        return pool
    }

    private static func openForReading(_ path: String) throws(RecordingError) -> DatabaseQueue {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .missingFile(path: path, hint: "no results database here; `rbench run` records one, `rbench import` rebuilds one from run files, --db names another")
        }
        func open() throws(RecordingError) -> DatabaseQueue {
            let failure: any Error
            do {
                let queue = try DatabaseQueue(path: path, configuration: configuration(readOnly: true))
                _ = try queue.read { db in try db.tableExists("run") } // SQLite opens lazily: read once now
                return queue
            } catch { failure = error }
            // A WAL database in a folder we cannot write, closed cleanly (no -wal content, no -shm):
            // SQLite can only read it as immutable, which is exact here since nothing is pending.
            if let immutable = immutableURI(path),
               let queue = try? DatabaseQueue(path: immutable, configuration: configuration(readOnly: true)),
               (try? queue.read { db in try db.tableExists("run") }) != nil {
                return queue
            }
            throw classify(failure, path: path, doing: "cannot open for reading")
        }
        var queue = try open()
        let unknown = try unknownMigrations(queue, path: path)
        guard unknown.isEmpty else { throw newerBuild(path: path, unknown: unknown) }
        let pending: [String]
        do {
            pending = try queue.read { db in
                let applied = try Schema.migrator.appliedIdentifiers(db)
                return Schema.migrations.map(\.identifier).filter { !applied.contains($0) }
            }
        } catch { throw classify(error, path: path, doing: "cannot read its migrations") }
        if !pending.isEmpty {
            // An older schema: bring it up to date (adding only) when we may write, else say what to do.
            guard FileManager.default.isWritableFile(atPath: path) else {
                throw .database(path: path, message: "written by an older rbench; it needs migration(s) \(pending.joined(separator: ", ")) but is read-only; make it writable once (the next command migrates it, keeping every row) or read a migrated copy")
            }
            try? queue.close()
            _ = try openForWriting(path)
            queue = try open()
        }
        try checkColumns(queue, path: path)
        return queue
    }

    /// `file:…?immutable=1` for `path` when reading it immutably loses nothing: its folder is not
    /// writable (so no -shm can be made) and no -wal file holds transactions not yet in the file.
    private static func immutableURI(_ path: String) -> String? {
        let manager = FileManager.default
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard !manager.isWritableFile(atPath: folder) else { return nil }
        let walSize = (try? manager.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        guard walSize == 0, !manager.fileExists(atPath: path + "-shm") else { return nil }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        guard let encoded = URL(fileURLWithPath: path).path.addingPercentEncoding(withAllowedCharacters: allowed) else { return nil }
        return "file:\(encoded)?immutable=1"
    }

    /// Applied migrations this build does not know, sorted.
    private static func unknownMigrations(_ reader: any DatabaseReader, path: String) throws(RecordingError) -> [String] {
        do {
            let applied = try reader.read { db in try Schema.migrator.appliedIdentifiers(db) }
            let known = Set(Schema.migrations.map(\.identifier))
            return applied.subtracting(known).sorted()
        } catch {
            throw classify(error, path: path, doing: "cannot read its migrations")
        }
    }

    private static func newerBuild(path: String, unknown: [String]) -> RecordingError {
        .incompatibleDatabase(path: path, message: "written by a newer rbench: migration(s) \(unknown.joined(separator: ", ")) are unknown to this build (it knows \(Schema.migrations.map(\.identifier).joined(separator: ", "))); use that newer rbench, or point --db at another database (`rbench import` rebuilds one from run files)")
    }

    /// Every column this build reads exists (a hand-edited or foreign schema is refused, never read).
    private static func checkColumns(_ reader: any DatabaseReader, path: String) throws(RecordingError) {
        let missing: [String]
        do {
            missing = try reader.read { db in
                var missing: [String] = []
                for (table, columns) in Schema.expectedColumns.sorted(by: { $0.key < $1.key }) {
                    guard try db.tableExists(table) else {
                        missing.append("table \(table)")
                        continue
                    }
                    let present = Set(try db.columns(in: table).map { $0.name.lowercased() })
                    missing += columns.sorted().filter { !present.contains($0.lowercased()) }.map { "\(table).\($0)" }
                }
                return missing
            }
        } catch { throw classify(error, path: path, doing: "cannot read its schema") }
        guard missing.isEmpty else {
            throw .incompatibleDatabase(path: path, message: "not a results database of this build: missing \(missing.joined(separator: ", ")) (renamed or dropped by another tool?); point --db at another database, or rebuild one from run files with `rbench import`")
        }
    }

    /// Maps an SQLite error to the error the user can act on.
    static func classify(_ error: any Error, path: String, doing what: String) -> RecordingError {
        if let recording = error as? RecordingError { return recording }
        if error is RowDecodingError || error is DecodingError {
            return .incompatibleDatabase(path: path, message: "\(what): a row does not have the shape this build reads (\(error)); point --db at another database or rebuild it with `rbench import`")
        }
        if let sqlite = error as? DatabaseError {
            switch sqlite.resultCode {
            case .SQLITE_NOTADB: return .incompatibleDatabase(path: path, message: "not an SQLite database (\(sqlite.message ?? "file is not a database"))")
            case .SQLITE_CORRUPT: return .incompatibleDatabase(path: path, message: "the database file is corrupt (\(sqlite.message ?? "malformed")); rebuild it from run files with `rbench import --db NEW results/runs`")
            case .SQLITE_READONLY: return .database(path: path, message: "\(what): the file or its folder is read-only; recording needs write access (reading commands do not)")
            case .SQLITE_CANTOPEN: return .database(path: path, message: "\(what): SQLite cannot open it (missing folder, permissions, or a read-only folder without its -wal/-shm files)")
            default: break
            }
        }
        return .database(path: path, message: "\(what): \(error)")
    }

    /// The identifiers of the migrations applied to this database.
    public func appliedMigrations() throws(RecordingError) -> [String] {
        try guarded("read migrations") { try database.read { db in try Schema.migrator.appliedMigrations(db) } }
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
            try database.write { db in
                let rows = try Row.fetchAll(db, sql: "SELECT id, lease_owner FROM run WHERE status = 'running'")
                var aborted: [String] = []
                for row in rows {
                    let id: String = try row.value("id")
                    let lease: String? = try row.value("lease_owner")
                    guard ProcessLease.isGone(lease) else { continue }
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
            try database.write { db in try insertHeader(run, status: .running, lease: ProcessLease.current.text, db: db) }
        }
    }

    /// Appends one result with its metrics and samples in one transaction.
    public func appendResult(_ result: ResultRecord, runID: String) throws(RecordingError) {
        try guarded("record \(result.check) in run \(runID)") {
            try database.write { db in try insertResult(result, runID: runID, db: db) }
        }
    }

    /// Ends a run; `complete` is written last, after every result. `verdicts` are saved in the
    /// same transaction, so a run is never complete without the verdicts it was judged with
    /// (unless judging itself failed: ``RunSummary/verdictsMissing`` then flags it).
    public func finishRun(id: String, status: RunStatus, finishedAt: Double = Date().timeIntervalSince1970,
                          runFileSHA256: String? = nil, verdicts: [MetricVerdict] = []) throws(RecordingError) {
        try guarded("finish run \(id)") {
            try database.write { db in
                try db.execute(sql: "UPDATE run SET status = ?, finished_at = ?, run_file_sha256 = ?, lease_owner = NULL WHERE id = ?",
                               arguments: [status.rawValue, finishedAt, runFileSHA256, id])
                if db.changesCount == 0 { throw RecordingError.notFound("run \(id) is not in \(path)") }
                try insertVerdicts(verdicts, runID: id, db: db)
            }
        }
    }

    /// Inserts a whole run from its run file; returns false when the run id is already present.
    @discardableResult
    public func importRun(_ run: RunRecord) throws(RecordingError) -> Bool {
        try guarded("import run \(run.id)") {
            try database.write { db in
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
        guard let revisionID = try Int64.fetchOne(db, sql: "SELECT id FROM revision WHERE key = ?", arguments: [revision.storageKey]) else {
            throw RecordingError.database(path: path, message: "revision \(revision.storageKey) vanished while recording run \(run.id)")
        }

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
        guard let environmentID = try Int64.fetchOne(db, sql: "SELECT id FROM environment WHERE fingerprint = ?",
                                                     arguments: [environment.fingerprint]) else {
            throw RecordingError.database(path: path, message: "environment \(environment.fingerprint.prefix(12)) vanished while recording run \(run.id)")
        }

        let corpora = String(decoding: try JSONEncoder.sorted.encode(run.corporaSHA256), as: UTF8.self)
        let argv = String(decoding: try JSONEncoder.sorted.encode(run.argv), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO run (id, status, started_at, revision_id, environment_id, suite_name, suite_sha256,
                model_sha256, corpora_json, master_seed, argv, lease_owner, in_repository, branch, describe, is_dirty)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [run.id, status.rawValue, run.startedAt, revisionID, environmentID, run.suite,
                             run.suiteSHA256, run.modelSHA256, corpora, Int64(bitPattern: run.masterSeed), argv, lease,
                             revision.inRepository, revision.branch, revision.describe, revision.isDirty])
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
        for (phase, seconds) in (result.profile?.seconds ?? [:]).sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO phase (result_id, phase, seconds, work) VALUES (?, ?, ?, ?)",
                           arguments: [resultID, phase, seconds, result.profile?.work[phase] ?? 0])
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
            try database.read { db in
                try Row.fetchAll(db, sql: Self.summarySQL + " ORDER BY run.started_at DESC, run.id LIMIT ?", arguments: [limit])
                    .map(Self.summary)
            }
        }
    }

    /// The summary of one run, nil when unknown.
    public func summary(ofRun id: String) throws(RecordingError) -> RunSummary? {
        try guarded("read run \(id)") {
            try database.read { db in
                try Row.fetchOne(db, sql: Self.summarySQL + " WHERE run.id = ?", arguments: [id]).map(Self.summary)
            }
        }
    }

    private static let summarySQL = """
        SELECT run.id, run.status, run.started_at, run.suite_name, run.lease_owner, revision.commit_sha,
            coalesce(run.is_dirty, revision.is_dirty) AS run_is_dirty, environment.determinism_class,
            (SELECT count(*) FROM result WHERE result.run_id = run.id) AS results,
            (SELECT count(*) FROM verdict WHERE verdict.run_id = run.id) AS verdicts
        FROM run JOIN revision ON revision.id = run.revision_id
        JOIN environment ON environment.id = run.environment_id
        """

    private static func summary(_ row: Row) throws -> RunSummary {
        let status: String = try row.value("status")
        let lease: String? = try row.value("lease_owner")
        let known = RunStatus(rawValue: status)
        return RunSummary(id: try row.value("id"), status: known ?? .aborted, startedAt: try row.value("started_at"),
                          suite: try row.value("suite_name"), commitSHA: try row.value("commit_sha"),
                          isDirty: try row.value("run_is_dirty"), determinismClass: try row.value("determinism_class"),
                          resultCount: try row.value("results"), verdictCount: try row.value("verdicts"),
                          leaseOwner: lease, isStale: known == .running && ProcessLease.isGone(lease))
    }

    /// The status of one run, nil when unknown.
    public func status(ofRun id: String) throws(RecordingError) -> RunStatus? {
        try guarded("read run \(id)") {
            try database.read { db in
                try String.fetchOne(db, sql: "SELECT status FROM run WHERE id = ?", arguments: [id]).flatMap(RunStatus.init)
            }
        }
    }

    /// Resolves a run reference: a run id (or unique prefix), a commit sha prefix (latest complete run at
    /// that commit), or nil for the latest complete run (of `suite` when given).
    public func resolveRun(_ reference: String?, suite: String? = nil) throws(RecordingError) -> String {
        let found: String? = try guarded("resolve run") {
            try database.read { db in
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
            try database.read { db in
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT run.*, coalesce(run.in_repository, revision.in_repository) AS run_in_repository,
                        coalesce(run.is_dirty, revision.is_dirty) AS run_is_dirty, revision.commit_sha,
                        revision.dirty_diff_sha256, revision.commit_time, environment.raw_json
                    FROM run JOIN revision ON revision.id = run.revision_id
                    JOIN environment ON environment.id = run.environment_id WHERE run.id = ?
                    """, arguments: [id]) else { return nil }
                let decoder = JSONDecoder()
                // Branch, describe, dirty and in_repository as this run saw them (v3_run_provenance).
                let revision = RevisionInfo(inRepository: try row.value("run_in_repository"), commitSHA: try row.value("commit_sha"),
                                            branch: try row.value("branch"), isDirty: try row.value("run_is_dirty"),
                                            dirtyDiffSHA256: try row.value("dirty_diff_sha256"), describe: try row.value("describe"),
                                            commitTime: try row.value("commit_time"))
                let environment = try decoder.decode(EnvironmentInfo.self, from: Data((try row.value("raw_json") as String).utf8))
                let artifacts = try Row.fetchAll(db, sql: """
                    SELECT artifact.kind, artifact.path, artifact.sha256, artifact.size_bytes, run_artifact.role
                    FROM run_artifact JOIN artifact ON artifact.id = run_artifact.artifact_id
                    WHERE run_artifact.run_id = ? ORDER BY run_artifact.role
                    """, arguments: [id]).map { artifact in
                    ArtifactRecord(kind: try artifact.value("kind"), role: try artifact.value("role"), path: try artifact.value("path"),
                                   sha256: try artifact.value("sha256"), sizeBytes: try artifact.value("size_bytes"))
                }
                let status: String = try row.value("status")
                var record = RunRecord(
                    id: id, status: RunStatus(rawValue: status) ?? .aborted, startedAt: try row.value("started_at"),
                    finishedAt: try row.value("finished_at"), suite: try row.value("suite_name"), suiteSHA256: try row.value("suite_sha256"),
                    modelSHA256: try row.value("model_sha256"),
                    corporaSHA256: try decoder.decode([String: String].self, from: Data((try row.value("corpora_json") as String).utf8)),
                    artifacts: artifacts, masterSeed: UInt64(bitPattern: try row.value("master_seed")),
                    argv: try decoder.decode([String].self, from: Data((try row.value("argv") as String).utf8)),
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
            samplesByMetric[try sample.value("metric_id"), default: []].append(FloatBits.double(fromStorage: try sample.value("value_bits")))
        }
        let metricRows = try Row.fetchAll(db, sql: """
            SELECT metric.* FROM metric JOIN result ON result.id = metric.result_id WHERE result.run_id = ? ORDER BY metric.id
            """, arguments: [runID])
        var metricsByResult: [Int64: [MetricRecord]] = [:]
        for row in metricRows {
            let metricID: Int64 = try row.value("id")
            let metric = MetricRecord(name: try row.value("name"), layer: try row.value("layer"), unit: try row.value("unit"),
                                      value: FloatBits.double(fromStorage: try row.value("value_bits")),
                                      interval: try Self.interval(row), samples: samplesByMetric[metricID])
            metricsByResult[try row.value("result_id"), default: []].append(metric)
        }
        var profileByResult: [Int64: PhaseProfile] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT phase.* FROM phase JOIN result ON result.id = phase.result_id WHERE result.run_id = ?
            """, arguments: [runID]) {
            let resultID: Int64 = try row.value("result_id"), phase: String = try row.value("phase")
            var profile = profileByResult[resultID] ?? PhaseProfile(seconds: [:], work: [:])
            profile.seconds[phase] = try row.value("seconds")
            profile.work[phase] = try row.value("work")
            profileByResult[resultID] = profile
        }
        var criteriaByResult: [Int64: [Criterion]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT criterion.* FROM criterion JOIN result ON result.id = criterion.result_id WHERE result.run_id = ?
            ORDER BY criterion.result_id, criterion.position
            """, arguments: [runID]) {
            let overrideValue: Double? = try row.value("override_value")
            let overrideReason: String? = try row.value("override_reason")
            let overrideOriginal: Double? = try row.value("override_original")
            let override = overrideValue.map { ThresholdOverride(value: $0, reason: overrideReason ?? "", original: overrideOriginal ?? .nan) }
            let comparisonText: String = try row.value("comparison"), outcomeText: String = try row.value("outcome")
            guard let comparison = Comparison(rawValue: comparisonText), let outcome = CriterionOutcome(rawValue: outcomeText) else {
                throw RecordingError.incompatibleDatabase(path: path, message: "criterion row with comparison '\(comparisonText)' and outcome '\(outcomeText)' is not one this build knows")
            }
            criteriaByResult[try row.value("result_id"), default: []].append(Criterion(
                name: try row.value("name"), statistic: try row.value("statistic"), comparison: comparison,
                threshold: FloatBits.double(fromStorage: try row.value("threshold_bits")),
                observed: FloatBits.double(fromStorage: try row.value("observed_bits")), interval: try Self.interval(row),
                outcome: outcome, summary: try row.value("summary"), override: override))
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM result WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
            let resultID: Int64 = try row.value("id")
            let expected: String? = try row.value("expected_verdict")
            let verdict: String = try row.value("claim_verdict")
            return ResultRecord(
                claimID: try row.value("claim_id"), subject: try row.value("subject"),
                verdict: RecordedVerdict(rawValue: verdict) ?? .error,
                expectedVerdict: expected.flatMap(RecordedVerdict.init), seed: UInt64(bitPattern: try row.value("seed")),
                durationNS: UInt64(clamping: try row.value("duration_ns") as Int64), error: try row.value("error"),
                notes: try JSONDecoder().decode([String].self, from: Data((try row.value("notes") as String).utf8)),
                criteria: criteriaByResult[resultID] ?? [], metrics: metricsByResult[resultID] ?? [],
                profile: profileByResult[resultID])
        }
    }

    /// The interval stored in a metric or criterion row's `ci_*` columns, nil when it has none.
    private static func interval(_ row: Row) throws -> Interval? {
        let low: Int64? = try row.value("ci_low_bits"), high: Int64? = try row.value("ci_high_bits")
        let level: Double? = try row.value("ci_level"), methodName: String? = try row.value("ci_method")
        guard let low, let high, let level, let methodName, let method = IntervalMethod(rawValue: methodName) else { return nil }
        let replicates: Int? = try row.value("ci_replicates"), sampleSize: Int? = try row.value("ci_n"), unit: String? = try row.value("ci_unit")
        return Interval(low: FloatBits.double(fromStorage: low), high: FloatBits.double(fromStorage: high), level: level,
                        method: method, replicates: replicates ?? 0, sampleSize: sampleSize ?? 0, unit: unit ?? "")
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
            try database.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT run.id AS run_id, run.started_at, revision.id AS revision_id, revision.commit_sha,
                        coalesce(run.is_dirty, revision.is_dirty) AS run_is_dirty, revision.commit_time, result.claim_id, result.subject, metric.name,
                        metric.layer, metric.value_bits, run.model_sha256, run.suite_sha256, run.corpora_json,
                        environment.determinism_class, NULL AS seconds
                    FROM metric JOIN result ON result.id = metric.result_id JOIN run ON run.id = result.run_id
                    JOIN revision ON revision.id = run.revision_id JOIN environment ON environment.id = run.environment_id
                    WHERE run.status = 'complete' AND (? IS NULL OR run.suite_name = ?)
                    UNION ALL
                    SELECT run.id AS run_id, run.started_at, revision.id AS revision_id, revision.commit_sha,
                        coalesce(run.is_dirty, revision.is_dirty) AS run_is_dirty, revision.commit_time, result.claim_id, result.subject,
                        'profile.' || phase.phase AS name, NULL AS layer,
                        CAST(0 AS INTEGER) AS value_bits, run.model_sha256, run.suite_sha256, run.corpora_json,
                        environment.determinism_class, phase.seconds AS seconds
                    FROM phase JOIN result ON result.id = phase.result_id JOIN run ON run.id = result.run_id
                    JOIN revision ON revision.id = run.revision_id JOIN environment ON environment.id = run.environment_id
                    WHERE run.status = 'complete' AND (? IS NULL OR run.suite_name = ?)
                    ORDER BY 6, 3, 2
                    """, arguments: [suite, suite, suite, suite])
                var latest: [String: HistoryPoint] = [:]
                var order: [String] = []
                for row in rows {
                    let name: String = try row.value("name")
                    let layer: Int? = try row.value("layer")
                    let rowKey = layer.map { "\(name)[\($0)]" } ?? name
                    let rowCheck = "\(try row.value("claim_id") as String)/\(try row.value("subject") as String)"
                    guard rowKey == filterKey, filterCheck == nil || filterCheck == rowCheck else { continue }
                    let corporaJSON: String = try row.value("corpora_json")
                    let corpora = (try? JSONDecoder().decode([String: String].self, from: Data(corporaJSON.utf8))) ?? ["?": corporaJSON]
                    let comparability = HistoryPoint.Comparability(
                        modelSHA256: try row.value("model_sha256"), suiteSHA256: try row.value("suite_sha256"), corporaSHA256: corpora,
                        determinismClass: try row.value("determinism_class"))
                    // Incomparable runs at one revision are separate points (never the latest of one another).
                    let seriesKey = "\(try row.value("revision_id") as Int64)|\(rowCheck)|\(comparability.modelSHA256)|\(comparability.suiteSHA256)|\(comparability.corporaSHA256)|\(comparability.determinismClass)"
                    if latest[seriesKey] == nil { order.append(seriesKey) }
                    latest[seriesKey] = HistoryPoint(commitSHA: try row.value("commit_sha"), isDirty: try row.value("run_is_dirty"),
                                                     commitTime: try row.value("commit_time"), runID: try row.value("run_id"), check: rowCheck,
                                                     value: try (row.value("seconds") as Double?)
                                                        ?? FloatBits.double(fromStorage: row.value("value_bits")),
                                                     comparability: comparability)
                }
                return order.compactMap { latest[$0] }
            }
        }
    }

    // MARK: Verdicts

    /// Persists verdicts with their inputs (the audit trail).
    public func saveVerdicts(_ verdicts: [MetricVerdict], runID: String) throws(RecordingError) {
        try guarded("save verdicts of run \(runID)") {
            try database.write { db in try insertVerdicts(verdicts, runID: runID, db: db) }
        }
    }

    private func insertVerdicts(_ verdicts: [MetricVerdict], runID: String, db: Database) throws {
        let now = Date().timeIntervalSince1970
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

    /// The number of verdict rows stored for a run.
    public func verdictCount(runID: String) throws(RecordingError) -> Int {
        try guarded("count verdicts") {
            try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM verdict WHERE run_id = ?", arguments: [runID]) ?? 0 }
        }
    }

    private func guarded<T>(_ what: String, _ body: () throws -> T) throws(RecordingError) -> T {
        do {
            return try body()
        } catch {
            throw Self.classify(error, path: path, doing: what)
        }
    }
}

extension Row {
    /// The value of `column`; throws (never traps, unlike the subscript) when the column is missing
    /// or holds NULL or another type, so a foreign schema is an error, not a crash.
    func value<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        try decode(Value.self, forColumn: column)
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

    /// True when `lease` names a process on this host that no longer exists: its run can never
    /// finish. Unreadable leases and other hosts' processes are not judged (false).
    static func isGone(_ lease: String?) -> Bool {
        guard let lease, let owner = ProcessLease(lease), owner.host == current.host else { return false }
        return !owner.isAlive
    }

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
