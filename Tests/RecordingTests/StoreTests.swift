import Foundation
import GRDB
import Testing
import TestSupport
@testable import Recording

@Suite struct StoreTests {
    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func runRoundTripsThroughDatabaseAndRunFile() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try ResultStore(path: temp.path("db.sqlite").path)
        let metrics = [MetricRecord(name: "corr", layer: 3, value: 0.1 + 0.2), MetricRecord(name: "nan", value: .nan),
                       MetricRecord(name: "negzero", value: -0.0),
                       MetricRecord(name: "time", unit: "s", value: 0.5, samples: [0.5, 0.25, .ulpOfOne])]
        var run = testRun(status: .running, results: [])
        try store.beginRun(run)
        let first = result(metrics: metrics)
        try store.appendResult(first, runID: run.id)
        #expect(try store.status(ofRun: run.id) == .running)
        try store.finishRun(id: run.id, status: .complete, finishedAt: 99)
        run.results = [first]
        run.status = .complete
        run.finishedAt = 99
        let loaded = try store.loadRun(id: run.id)
        #expect(loaded.results[0].metrics[1].value.isNaN)
        #expect(loaded.results[0].metrics[2].value.bitPattern == (-0.0).bitPattern)
        #expect(loaded.results[0].metrics[3].samples == [0.5, 0.25, .ulpOfOne])

        // The run file alone rebuilds an equivalent database.
        let file = try RunFile.write(run, to: temp.path("runs"))
        let rebuilt = try ResultStore(path: temp.path("rebuilt.sqlite").path)
        #expect(try rebuilt.importRun(try RunFile.read(file)))
        #expect(try rebuilt.importRun(try RunFile.read(file)) == false)
        let reloaded = try rebuilt.loadRun(id: run.id)
        #expect(reloaded.results[0].metrics.map(\.value.bitPattern) == metrics.map(\.value.bitPattern))
        #expect(reloaded.revision == run.revision && reloaded.environment == run.environment && reloaded.status == .complete)
    }

    @Test func migrationKeepsDataRecordedUnderTheV1Schema() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("old.sqlite").path
        // The v1 schema as it shipped, written by hand so later edits to Schema cannot hide a data loss.
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE revision (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, in_repository INTEGER NOT NULL,
                    commit_sha TEXT, branch TEXT, describe TEXT, is_dirty INTEGER NOT NULL, dirty_diff_sha256 TEXT, commit_time INTEGER) STRICT;
                CREATE TABLE environment (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, determinism_class TEXT NOT NULL,
                    hostname TEXT NOT NULL, os_name TEXT NOT NULL, kernel TEXT NOT NULL, cpu_model TEXT NOT NULL, cpu_arch TEXT NOT NULL,
                    isa_features TEXT NOT NULL, threads INTEGER NOT NULL, swift_version TEXT NOT NULL, build_config TEXT NOT NULL,
                    blas_config TEXT NOT NULL, blas_core_type TEXT NOT NULL, batch_size INTEGER NOT NULL, raw_json TEXT NOT NULL) STRICT;
                CREATE TABLE artifact (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
                    size_bytes INTEGER NOT NULL) STRICT;
                CREATE TABLE run (id TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'aborted')),
                    started_at REAL NOT NULL, finished_at REAL, revision_id INTEGER NOT NULL REFERENCES revision(id),
                    environment_id INTEGER NOT NULL REFERENCES environment(id), suite_name TEXT NOT NULL, suite_sha256 TEXT NOT NULL,
                    model_sha256 TEXT NOT NULL, corpora_json TEXT NOT NULL, master_seed INTEGER NOT NULL, argv TEXT NOT NULL, lease_owner TEXT) STRICT;
                CREATE TABLE run_artifact (run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    artifact_id INTEGER NOT NULL REFERENCES artifact(id), role TEXT NOT NULL, PRIMARY KEY (run_id, role)) STRICT;
                CREATE TABLE result (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    claim_id TEXT NOT NULL, subject TEXT NOT NULL, claim_verdict TEXT NOT NULL, expected_verdict TEXT,
                    seed INTEGER NOT NULL, duration_ns INTEGER NOT NULL, error TEXT, notes TEXT NOT NULL) STRICT;
                CREATE INDEX result_run ON result(run_id);
                CREATE TABLE metric (id INTEGER PRIMARY KEY, result_id INTEGER NOT NULL REFERENCES result(id) ON DELETE CASCADE,
                    name TEXT NOT NULL, layer INTEGER, unit TEXT NOT NULL, value REAL, value_bits INTEGER NOT NULL, n INTEGER NOT NULL) STRICT;
                CREATE INDEX metric_result ON metric(result_id);
                CREATE TABLE sample (metric_id INTEGER NOT NULL REFERENCES metric(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
                    value REAL, value_bits INTEGER NOT NULL, PRIMARY KEY (metric_id, idx)) STRICT;
                INSERT INTO revision VALUES (1, 'abc:clean', 1, 'abc', 'main', 'v1', 0, NULL, 1700000000);
                INSERT INTO environment VALUES (1, 'fp', 'cls', 'h', 'Linux', 'k', 'cpu', 'x86_64', 'avx2', 2, '6.3', 'release',
                    'blas', 'Haswell', 1, '{"batchSize":1,"blasConfig":"blas","blasCoreType":"Haswell","buildConfig":"release","coresOnline":2,"cpuArch":"x86_64","cpuModel":"cpu","hostname":"h","isaFeatures":["avx2"],"kernel":"k","memoryBytes":1,"osName":"Linux","swiftVersion":"6.3","threads":2}');
                INSERT INTO run VALUES ('old-run', 'complete', 1.0, 2.0, 1, 1, 'smoke', 'ss', 'mm', '{}', 5, '[]', NULL);
                INSERT INTO result VALUES (1, 'old-run', 'TD-1', 'model', 'supported', NULL, 5, 10, NULL, '[]');
                INSERT INTO metric VALUES (1, 1, 'corr', NULL, '', 0.25, 4598175219545276416, 1);
                """)
        }
        try queue.close()

        // A reading command migrates an older file it may write (adding only), then reads it.
        let reader = try ResultStore(path: path, access: .readOnly)
        #expect(try reader.appliedMigrations() == ["v1", "v2", "v3_run_provenance", "v4_criteria", "v5_profile"])
        #expect(try reader.loadRun(id: "old-run").revision.describe == "v1")

        let store = try ResultStore(path: path)
        #expect(try store.appliedMigrations() == ["v1", "v2", "v3_run_provenance", "v4_criteria", "v5_profile"])
        let old = try store.loadRun(id: "old-run")
        #expect(old.results.count == 1)
        #expect(old.results[0].metrics[0].value == 0.25)
        #expect(old.revision.commitSHA == "abc")
        #expect(old.revision.branch == "main" && old.revision.describe == "v1" && old.revision.inRepository && !old.revision.isDirty,
                "v3_run_provenance copies the revision row's fields into the run")
        try store.saveVerdicts([MetricVerdict(check: "TD-1/model", metric: "corr", outcome: .pass, reason: "BITWISE_EQUAL")], runID: "old-run")
        #expect(try store.verdictCount(runID: "old-run") == 1)
    }

    @Test func twoWritersWithSeparateConnectionsBothLand() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("shared.sqlite").path
        _ = try ResultStore(path: path) // schema in place before the race
        let ids = ["writer-a", "writer-b"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    let store = try ResultStore(path: path)
                    let run = testRun(id: id, status: .running, results: [])
                    try store.beginRun(run)
                    for index in 0..<20 {
                        try store.appendResult(result(claim: "C\(index)", metrics: [MetricRecord(name: "m", value: Double(index))]), runID: id)
                    }
                    try store.finishRun(id: id, status: .complete)
                }
            }
            try await group.waitForAll()
        }
        let store = try ResultStore(path: path)
        for id in ids {
            #expect(try store.status(ofRun: id) == .complete)
            #expect(try store.loadRun(id: id).results.count == 20)
        }
    }

    @Test func killedRunIsAbortedButALiveOneIsNot() throws {
        guard let rbench = builtRBench() else {
            Issue.record("rbench is not built next to the test bundle; build with `swift build --build-tests`")
            return
        }
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("kill.sqlite").path
        let process = Process()
        process.executableURL = rbench
        process.arguments = ["_test-hold-run", "--db", path, "--run-id", "held", "--seconds", "30"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // Wait for the child to have started its run.
        _ = out.fileHandleForReading.availableData
        let store = try ResultStore(path: path)
        #expect(try store.status(ofRun: "held") == .running)
        #expect(try store.abortStaleRuns().isEmpty, "a live run must not be aborted")
        #expect(try store.status(ofRun: "held") == .running)

        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try store.abortStaleRuns() == ["held"])
        #expect(try store.status(ofRun: "held") == .aborted)
        #expect(throws: RecordingError.self, "an aborted run is never a complete one") { try store.resolveRun(nil) }
    }

    @Test func historyHasOneRowPerRevisionOldestFirst() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try ResultStore(path: temp.path("h.sqlite").path)
        for (index, commit) in ["c1", "c2", "c2"].enumerated() {
            var run = testRun(id: "r\(index)", commit: commit, results: [result(metrics: [MetricRecord(name: "corr", layer: 1, value: Double(index))])])
            run.revision.commitTime = commit == "c1" ? 100 : 200
            run.startedAt = Double(index)
            try store.importRun(run)
        }
        let points = try store.history(metric: "TD-1/model:corr[1]")
        #expect(points.map(\.commitSHA) == ["c1", "c2"])
        #expect(points.map(\.value) == [0, 2])
    }
}
