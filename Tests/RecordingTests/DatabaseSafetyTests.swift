import Foundation
import GRDB
import Testing
import TestSupport
@testable import Recording

/// Databases this build must refuse or read carefully: newer, foreign, missing, stale or half-judged.
@Suite struct DatabaseSafetyTests {
    /// A database holding one complete run, closed again.
    func recordedDatabase(_ temp: TemporaryDirectory, name: String = "db.sqlite") throws -> String {
        let path = temp.path(name).path
        let store = try ResultStore(path: path)
        try store.importRun(testRun(id: "r1", results: [result(metrics: [MetricRecord(name: "corr", value: 0.5)])]))
        return path
    }

    func rawWrite(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    func openError(_ path: String, _ access: ResultStore.Access) -> RecordingError? {
        do { _ = try ResultStore(path: path, access: access); return nil } catch { return error }
    }

    @Test func databaseOfANewerBuildIsRefusedNamingItsMigrations() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try recordedDatabase(temp)
        // What a newer build might do: a migration this build does not know that renames a column.
        try rawWrite(path, """
            INSERT INTO grdb_migrations VALUES ('v9_renamed_status');
            ALTER TABLE run RENAME COLUMN status TO state;
            """)
        for access in [ResultStore.Access.readOnly, .readWrite] {
            let error = try #require(openError(path, access))
            guard case .incompatibleDatabase = error else { Issue.record("expected incompatibleDatabase, got \(error)"); continue }
            #expect(error.description.contains("written by a newer rbench") && error.description.contains("v9_renamed_status"))
            #expect(error.exitCode == ExitCodes.badInput)
        }
    }

    @Test func renamedColumnWithoutAMigrationIsRefusedNotTrapped() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try recordedDatabase(temp)
        try rawWrite(path, "ALTER TABLE run RENAME COLUMN suite_name TO suite;")
        let error = try #require(openError(path, .readOnly))
        #expect(error.description.contains("missing run.suite_name"), "\(error)")
        #expect(error.exitCode == 65)
    }

    @Test func aFileThatIsNotSQLiteIsBadInput() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try temp.write("junk.sqlite", String(repeating: "not a database\n", count: 400)).path
        for access in [ResultStore.Access.readOnly, .readWrite] {
            let error = try #require(openError(path, access))
            #expect(error.description.contains("not an SQLite database"), "\(error)")
            #expect(error.exitCode == 65)
        }
    }

    @Test func readingNeverCreatesADatabase() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("nothing/here.sqlite").path
        let error = try #require(openError(path, .readOnly))
        guard case .missingFile = error else { Issue.record("expected missingFile, got \(error)"); return }
        #expect(error.exitCode == 65)
        #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: temp.path("nothing").path))
    }

    @Test func readOnlyStoreReadsButNeverWrites() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try recordedDatabase(temp)
        let reader = try ResultStore(path: path, access: .readOnly)
        #expect(reader.isReadOnly)
        #expect(try reader.loadRun(id: "r1").results.count == 1)
        let verdict = MetricVerdict(check: "TD-1/model", metric: "corr", outcome: .pass, reason: "BITWISE_EQUAL")
        #expect(throws: RecordingError.self) { try reader.saveVerdicts([verdict], runID: "r1") }
        #expect(throws: RecordingError.self) { try reader.beginRun(testRun(id: "r2", status: .running, results: [])) }
        #expect(try ResultStore(path: path).verdictCount(runID: "r1") == 0)
    }

    @Test func eachRunKeepsTheRevisionItSaw() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try ResultStore(path: temp.path("rev.sqlite").path)
        // Same commit, clean both times (one revision row): a shallow clone cannot describe, a full one can.
        var shallow = testRun(id: "shallow", results: [])
        shallow.revision = RevisionInfo(inRepository: true, commitSHA: "30d9994" + String(repeating: "0", count: 33), branch: nil, describe: nil)
        var full = testRun(id: "full", results: [])
        full.revision = RevisionInfo(inRepository: true, commitSHA: shallow.revision.commitSHA, branch: "main", describe: "30d9994")
        try store.importRun(shallow)
        try store.importRun(full)
        #expect(try store.loadRun(id: "shallow").revision == shallow.revision)
        #expect(try store.loadRun(id: "full").revision == full.revision, "the second run's describe and branch are its own")
    }

    @Test func deadRunIsStaleAndAnUnjudgedCompleteRunIsFlagged() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("flags.sqlite").path
        let store = try ResultStore(path: path)
        try store.beginRun(testRun(id: "alive", status: .running, results: []))
        try store.beginRun(testRun(id: "dead", status: .running, results: []))
        // A lease naming a process of this host that cannot exist (pid beyond pid_max).
        try rawWrite(path, "UPDATE run SET lease_owner = '\(ProcessInfo.processInfo.hostName)|2147483646|1' WHERE id = 'dead'")
        #expect(try store.summary(ofRun: "alive")?.isStale == false, "this process holds its lease")
        let dead = try #require(try store.summary(ofRun: "dead"))
        #expect(dead.isStale && dead.displayStatus == "stale" && dead.status == .running)

        try store.importRun(testRun(id: "unjudged", results: [result(metrics: [MetricRecord(name: "a", value: 1)])]))
        #expect(try store.summary(ofRun: "unjudged")?.verdictsMissing == true)
        try store.saveVerdicts([MetricVerdict(check: "TD-1/model", metric: "a", outcome: .pass, reason: "BITWISE_EQUAL")], runID: "unjudged")
        #expect(try store.summary(ofRun: "unjudged")?.verdictsMissing == false)

        // finishRun stores the verdicts in the transaction that marks the run complete.
        try store.appendResult(result(metrics: [MetricRecord(name: "a", value: 1)]), runID: "alive")
        try store.finishRun(id: "alive", status: .complete, verdicts: [MetricVerdict(check: "TD-1/model", metric: "a", outcome: .pass, reason: "BITWISE_EQUAL")])
        let finished = try #require(try store.summary(ofRun: "alive"))
        #expect(finished.status == .complete && finished.verdictCount == 1 && !finished.verdictsMissing)
    }
}
