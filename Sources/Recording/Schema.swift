import GRDB

/// The versioned schema. Migrations only ever add: recorded data is never dropped.
enum Schema {
    static let v1 = """
        CREATE TABLE revision (
            id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, in_repository INTEGER NOT NULL,
            commit_sha TEXT, branch TEXT, describe TEXT, is_dirty INTEGER NOT NULL,
            dirty_diff_sha256 TEXT, commit_time INTEGER) STRICT;
        CREATE TABLE environment (
            id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, determinism_class TEXT NOT NULL,
            hostname TEXT NOT NULL, os_name TEXT NOT NULL, kernel TEXT NOT NULL, cpu_model TEXT NOT NULL,
            cpu_arch TEXT NOT NULL, isa_features TEXT NOT NULL, threads INTEGER NOT NULL,
            swift_version TEXT NOT NULL, build_config TEXT NOT NULL, blas_config TEXT NOT NULL,
            blas_core_type TEXT NOT NULL, batch_size INTEGER NOT NULL, raw_json TEXT NOT NULL) STRICT;
        CREATE TABLE artifact (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE, size_bytes INTEGER NOT NULL) STRICT;
        CREATE TABLE run (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'aborted')),
            started_at REAL NOT NULL, finished_at REAL,
            revision_id INTEGER NOT NULL REFERENCES revision(id),
            environment_id INTEGER NOT NULL REFERENCES environment(id),
            suite_name TEXT NOT NULL, suite_sha256 TEXT NOT NULL, model_sha256 TEXT NOT NULL,
            corpora_json TEXT NOT NULL, master_seed INTEGER NOT NULL, argv TEXT NOT NULL,
            lease_owner TEXT) STRICT;
        CREATE TABLE run_artifact (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            artifact_id INTEGER NOT NULL REFERENCES artifact(id),
            role TEXT NOT NULL, PRIMARY KEY (run_id, role)) STRICT;
        CREATE TABLE result (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            claim_id TEXT NOT NULL, subject TEXT NOT NULL, claim_verdict TEXT NOT NULL,
            expected_verdict TEXT, seed INTEGER NOT NULL, duration_ns INTEGER NOT NULL,
            error TEXT, notes TEXT NOT NULL) STRICT;
        CREATE INDEX result_run ON result(run_id);
        CREATE TABLE metric (
            id INTEGER PRIMARY KEY, result_id INTEGER NOT NULL REFERENCES result(id) ON DELETE CASCADE,
            name TEXT NOT NULL, layer INTEGER, unit TEXT NOT NULL, value REAL,
            value_bits INTEGER NOT NULL, n INTEGER NOT NULL) STRICT;
        CREATE INDEX metric_result ON metric(result_id);
        CREATE TABLE sample (
            metric_id INTEGER NOT NULL REFERENCES metric(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
            value REAL, value_bits INTEGER NOT NULL, PRIMARY KEY (metric_id, idx)) STRICT;
        """

    /// v2: the verdict audit trail and the hash of each run file.
    static let v2 = """
        CREATE TABLE verdict (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            check_name TEXT NOT NULL, metric_key TEXT NOT NULL, regime TEXT NOT NULL,
            reference_kind TEXT NOT NULL, reference_id TEXT, method TEXT NOT NULL,
            observed REAL, observed_bits INTEGER, reference_value REAL, reference_bits INTEGER,
            delta REAL, rel_delta REAL, ulp_distance INTEGER, p_value REAL, effect REAL,
            effect_ci_low REAL, effect_ci_high REAL, thresholds TEXT, n_head INTEGER, n_base INTEGER,
            outcome TEXT NOT NULL, reason_code TEXT NOT NULL, detail TEXT NOT NULL,
            computed_at REAL NOT NULL) STRICT;
        CREATE INDEX verdict_run ON verdict(run_id);
        ALTER TABLE run ADD COLUMN run_file_sha256 TEXT;
        """

    /// v3: what each run saw of its checkout. A revision row is keyed by commit and diff hash, so
    /// branch, describe and in_repository there are those of the first run at that key; the run
    /// row now carries its own. Existing runs get their revision row's values (nothing is lost).
    static let v3RunProvenance = """
        ALTER TABLE run ADD COLUMN in_repository INTEGER;
        ALTER TABLE run ADD COLUMN branch TEXT;
        ALTER TABLE run ADD COLUMN describe TEXT;
        ALTER TABLE run ADD COLUMN is_dirty INTEGER;
        UPDATE run SET
            in_repository = (SELECT revision.in_repository FROM revision WHERE revision.id = run.revision_id),
            branch = (SELECT revision.branch FROM revision WHERE revision.id = run.revision_id),
            describe = (SELECT revision.describe FROM revision WHERE revision.id = run.revision_id),
            is_dirty = (SELECT revision.is_dirty FROM revision WHERE revision.id = run.revision_id);
        """

    /// v4: typed criteria with their intervals (claims spec §0.8), and intervals on metrics.
    /// Bounds may be infinite (an unbounded interval); the `_bits` columns are authoritative.
    static let v4Criteria = """
        CREATE TABLE criterion (
            id INTEGER PRIMARY KEY, result_id INTEGER NOT NULL REFERENCES result(id) ON DELETE CASCADE,
            position INTEGER NOT NULL, name TEXT NOT NULL, statistic TEXT NOT NULL,
            comparison TEXT NOT NULL CHECK (comparison IN ('>=', '<=', '>', '<')),
            threshold REAL, threshold_bits INTEGER NOT NULL, observed REAL, observed_bits INTEGER NOT NULL,
            ci_low REAL, ci_low_bits INTEGER, ci_high REAL, ci_high_bits INTEGER, ci_level REAL, ci_method TEXT,
            ci_replicates INTEGER, ci_n INTEGER, ci_unit TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ('held', 'failed', 'undecided')), summary TEXT NOT NULL,
            override_value REAL, override_reason TEXT, override_original REAL,
            UNIQUE (result_id, name)) STRICT;
        CREATE INDEX criterion_result ON criterion(result_id);
        ALTER TABLE metric ADD COLUMN ci_low_bits INTEGER;
        ALTER TABLE metric ADD COLUMN ci_high_bits INTEGER;
        ALTER TABLE metric ADD COLUMN ci_level REAL;
        ALTER TABLE metric ADD COLUMN ci_method TEXT;
        ALTER TABLE metric ADD COLUMN ci_replicates INTEGER;
        ALTER TABLE metric ADD COLUMN ci_n INTEGER;
        ALTER TABLE metric ADD COLUMN ci_unit TEXT;
        """

    /// v5: where each check's time went (``PhaseProfile``), one row per phase.
    static let v5Profile = """
        CREATE TABLE phase (
            result_id INTEGER NOT NULL REFERENCES result(id) ON DELETE CASCADE,
            phase TEXT NOT NULL, seconds REAL NOT NULL, work INTEGER NOT NULL,
            PRIMARY KEY (result_id, phase)) STRICT;
        """

    /// Every migration this build knows, in order. A database that lists any other was written by a
    /// newer build and is refused (``ResultStore`` never guesses at a schema it does not know).
    static let migrations: [(identifier: String, sql: String)] = [
        ("v1", v1), ("v2", v2), ("v3_run_provenance", v3RunProvenance), ("v4_criteria", v4Criteria), ("v5_profile", v5Profile),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            let sql = migration.sql
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    /// The columns of every table once all known migrations ran, read from an in-memory database
    /// (so this list can never drift from the migrations themselves).
    static let expectedColumns: [String: Set<String>] = {
        guard let queue = try? DatabaseQueue(), (try? migrator.migrate(queue)) != nil else { return [:] }
        return (try? queue.read { db -> [String: Set<String>] in
            var columns: [String: Set<String>] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%'") {
                columns[table] = Set(try db.columns(in: table).map(\.name))
            }
            return columns
        }) ?? [:]
    }()
}
