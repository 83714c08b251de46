import Foundation
import GRDB
import Testing
import TestSupport
@testable import Harness
@testable import Recording

/// The reading commands as the shell sees them: read-only, never creating, typed exit codes,
/// stale and unjudged runs flagged, one tolerance regime, and a loud "no baseline".
@Suite struct CLIRecordingTests {
    let rbench: URL? = builtRBench()

    func call(_ arguments: [String], in directory: URL) throws -> ProcessResult {
        try runProcess(try #require(rbench, "rbench must be built next to the test bundle"), arguments, in: directory)
    }

    func record(_ id: String, threads: Int = 2, value: Double = 0.5, suite: String = "tiny") -> RunRecord {
        var environment = testEnvironment()
        environment.threads = threads
        return RunRecord(id: id, status: .complete, suite: suite, suiteSHA256: "s",
                         modelSHA256: "m", corporaSHA256: [:], masterSeed: 1, argv: [],
                         revision: RevisionInfo(inRepository: true, commitSHA: String(repeating: "a", count: 40), branch: "main"),
                         environment: environment,
                         results: [ResultRecord(claimID: "T-1", subject: "model", verdict: .supported, seed: 1, durationNS: 1,
                                                metrics: [MetricRecord(name: "R", value: value), MetricRecord(name: "S", value: 2)])])
    }

    @Test func readingCommandsNeverCreateADatabaseAndUseTypedExitCodes() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        for arguments in [["runs"], ["history", "T-1/model:R"], ["check"], ["compare", "a", "b"], ["report", "--out", "site"],
                          ["baseline", "init", "--suite", "tiny", "--run", "x", "--allow-dirty"]] {
            let result = try call(arguments + ["--db", "missing/rbench.sqlite"], in: temp.url)
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("missing/rbench.sqlite: no such file"), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: temp.path("missing").path), "\(arguments) created a database")
        }

        _ = try ResultStore(path: temp.path("empty.sqlite").path)
        let empty = try call(["runs", "--db", "empty.sqlite"], in: temp.url)
        #expect(empty.status == 0 && !empty.stderr.contains("error:") && empty.stderr.contains("no runs recorded"))
        let unknown = try call(["history", "T-1/model:R", "--db", "empty.sqlite"], in: temp.url)
        #expect(unknown.status == 64 && unknown.stderr.contains("error: no complete run"), "\(unknown.stderr)")
        #expect(try call(["runs", "--limit", "0", "--db", "empty.sqlite"], in: temp.url).status == 64)
    }

    @Test func newerOrForeignDatabaseIsExit65NotASignal() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("results/rbench.sqlite").path
        try ResultStore(path: path).importRun(record("run-1"))
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v7_future'); ALTER TABLE result RENAME COLUMN claim_verdict TO verdict")
        }
        try queue.close()
        for arguments in [["runs"], ["check"], ["history", "T-1/model:R"], ["import"]] {
            let result = try call(arguments, in: temp.url)
            #expect(result.status == 65, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("written by a newer rbench") && result.stderr.contains("v7_future"), "\(arguments): \(result.stderr)")
        }
    }

    /// A read-only database in a read-only folder serves every reading command, both while a writer
    /// has it open (-wal and -shm present) and after it was closed cleanly (neither present).
    @Test func readOnlyDatabaseDoesNotBlockReading() throws {
        let temp = try TemporaryDirectory()
        defer {
            chmod(temp.path("results").path, 0o755)
            temp.remove()
        }
        // Root ignores file modes, so the commands run as `nobody` there (setpriv), as the user themselves otherwise.
        guard let unprivileged = UnprivilegedRunner(rbench: try #require(rbench)) else {
            Issue.record("cannot run as an unprivileged user (no setpriv); the read-only case is untested")
            return
        }
        let path = temp.path("results/rbench.sqlite").path
        var writer: ResultStore? = try ResultStore(path: path)
        let runs = [record("run-a", value: 0.5), record("run-b", value: 0.5)]
        for run in runs { try writer?.importRun(run) }
        let url = BaselineFile.url(in: temp.path("Baselines"), suite: "tiny", determinismClass: runs[0].environment.determinismClass)
        try BaselineUpdate.apply(run: runs[0], to: nil, reason: "initial").file.write(to: url)
        try RunFile.write(record("run-c"), to: temp.path("runfiles"))
        try FileManager.default.createDirectory(at: temp.path("site"), withIntermediateDirectories: true)
        chmod(temp.path("site").path, 0o777)
        chmod(temp.url.path, 0o755)

        for writerOpen in [true, false] {
            if !writerOpen {
                writer = nil // closing checkpoints the WAL and removes -wal and -shm
                #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
            }
            chmod(path, 0o444)
            chmod(temp.path("results").path, 0o555)
            for arguments in [["runs"], ["check", "run-b"], ["compare", "run-a", "run-b", "--gate"], ["history", "T-1/model:R"],
                              ["report", "run-b", "--out", "site"], ["baseline", "show", "--suite", "tiny"]] {
                let result = try unprivileged.call(arguments, in: temp.url)
                #expect(result.status == 0, "\(arguments) on a read-only database (writer open: \(writerOpen)): \(result.status) \(result.stderr)")
            }
            let checked = try unprivileged.call(["check", "run-b"], in: temp.url)
            #expect(checked.stderr.contains("read-only: verdicts shown, not stored"), "\(checked.stderr)")
            // Recording still needs write access, and says so (70).
            let imported = try unprivileged.call(["import", "runfiles"], in: temp.url)
            #expect(imported.status == 70 && imported.stderr.contains("read-only"), "\(imported.stderr)")
            chmod(temp.path("results").path, 0o755)
            chmod(path, 0o644)
        }
    }

    @Test func staleAndUnjudgedRunsAreFlagged() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.path("results/rbench.sqlite").path
        let store = try ResultStore(path: path)
        try store.importRun(record("unjudged"))
        var dead = record("dead")
        dead.status = .running
        try store.beginRun(dead)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "UPDATE run SET lease_owner = ? WHERE id = 'dead'", arguments: ["\(ProcessInfo.processInfo.hostName)|2147483646|1"])
        }
        try queue.close()

        let listed = try call(["runs"], in: temp.url)
        #expect(listed.status == 0)
        let deadLine = listed.stdout.split(separator: "\n").first { $0.hasPrefix("dead") }
        #expect(deadLine?.contains("stale") == true, "\(listed.stdout)")
        #expect(listed.stdout.split(separator: "\n").first { $0.hasPrefix("unjudged") }?.contains("NO VERDICTS") == true)
        #expect(listed.stdout.contains("stale: recorded as running, but its process is gone"))
        let json = try call(["runs", "--json"], in: temp.url)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.first { $0["id"] as? String == "dead" }?["stale"] as? Bool == true)
        #expect(entries.first { $0["id"] as? String == "unjudged" }?["verdictsMissing"] as? Bool == true)

        let staleCheck = try call(["check", "dead"], in: temp.url)
        #expect(staleCheck.status == 64 && staleCheck.stderr.contains("run dead is stale"), "\(staleCheck.stderr)")
        let report = try call(["report", "unjudged", "--out", "site"], in: temp.url)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOf: temp.path("site/index.html"), encoding: .utf8).contains("its verdicts were never stored"))

        let check = try call(["check", "unjudged"], in: temp.url)
        #expect(check.status == 0 && check.stderr.contains("its verdicts were never stored"), "\(check.stderr)")
        #expect(try store.summary(ofRun: "unjudged")?.verdictsMissing == false, "check stores the verdicts it computed")
    }

    @Test func compareAndCheckAgreeAcrossDeterminismClassesAndSaySo() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let store = try ResultStore(path: temp.path("results/rbench.sqlite").path)
        let twoThreads = record("two-threads", value: 0.3)
        let oneThread = record("one-thread", threads: 1, value: 0.3 * (1 + 4.6e-10))
        try store.importRun(twoThreads)
        try store.importRun(oneThread)

        let compared = try call(["compare", "two-threads", "one-thread", "--gate"], in: temp.url)
        #expect(compared.status == 0, "\(compared.stdout)")
        #expect(compared.stdout.contains("regime: cross-class tolerance") && compared.stdout.contains("default tolerances abs 1e-06, rel 0.0001"))

        let url = BaselineFile.url(in: temp.path("Baselines"), suite: "tiny", determinismClass: twoThreads.environment.determinismClass)
        try BaselineUpdate.apply(run: twoThreads, to: nil, reason: "initial").file.write(to: url)
        let checked = try call(["check", "one-thread"], in: temp.url)
        #expect(checked.status == 0)
        #expect(checked.stdout.contains("regime: cross-class tolerance") && checked.stdout.contains(url.lastPathComponent))
        let comparedWithFile = try call(["compare", "two-threads", "one-thread", "--gate", "--json"], in: temp.url)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(comparedWithFile.stdout.utf8)) as? [String: Any])
        let regime = try #require(document["regime"] as? [String: Any])
        #expect(regime["kind"] as? String == "tolerance" && (regime["tolerances"] as? String)?.contains(url.lastPathComponent) == true)

        let same = try call(["compare", "two-threads", "two-threads"], in: temp.url)
        #expect(same.stdout.contains("regime: bitwise"))
    }

    @Test func noBaselineIsOneLoudLineAndStrictMakesItFail() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        _ = try fixture.run()
        let root = fixture.suite.temp.url
        let result = try call(["check"], in: root)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.last?.hasPrefix("no baseline: nothing was compared; `rbench baseline init --suite tiny`") == true, "\(result.stdout)")
        #expect(!result.stdout.contains("NO_BASELINE"), "no per-check missing rows when there is no baseline at all")
        #expect(try call(["check", "--strict"], in: root).status == 4)
        let json = try call(["check", "--json"], in: root)
        #expect(json.stderr.contains("note: no baseline: nothing was compared"))
        let help = try call(["run", "--help"], in: root)
        #expect(help.stdout.contains("no baseline: nothing was compared") && help.stdout.contains("--strict"))
    }

    @Test func flippedVerdictOnAnyLineAndBadBaselinesAreExit65() throws {
        let fixture = try RunnerFixture()
        defer { fixture.suite.temp.remove() }
        let report = try fixture.run()
        let root = fixture.suite.temp.url
        let url = BaselineFile.url(in: fixture.baselines, suite: "tiny", determinismClass: report.run.environment.determinismClass)
        try BaselineUpdate.apply(run: report.run, to: nil, reason: "initial").file.write(to: url)
        #expect(try call(["check"], in: root).status == 0)
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        // T-1/model has two lines (score[1], seed): flip the verdict on the second only.
        let second = try #require(lines.indices.filter { lines[$0].contains("\"check\":\"T-1/model\"") }.dropFirst().first)
        lines[second] = lines[second].replacingOccurrences(of: "\"verdict\":\"supported\"", with: "\"verdict\":\"refuted\"")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        let flipped = try call(["check"], in: root)
        #expect(flipped.status == 65 && flipped.stderr.contains(":\(second + 1): key 'verdict': 'refuted' disagrees with line"), "\(flipped.stderr)")

        try text.replacingOccurrences(of: "\n", with: "\r\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(try call(["check"], in: root).status == 0, "a CRLF baseline is read like an LF one")
        try text.replacingOccurrences(of: "\"abs\":1e-06", with: "\"abs\":-1e-06").write(to: url, atomically: true, encoding: .utf8)
        let negative = try call(["check"], in: root)
        #expect(negative.status == 65 && negative.stderr.contains("key 'tol.abs': -1e-06 is not allowed"), "\(negative.stderr)")
    }

    @Test func baselineInitRefusesWhatCheckWouldReject() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        var twice = record("twice")
        twice.results.append(twice.results[0]) // a check recorded twice (a control listed twice in a suite)
        try ResultStore(path: temp.path("results/rbench.sqlite").path).importRun(twice)
        let result = try call(["baseline", "init", "--suite", "tiny", "--run", "twice", "--allow-dirty"], in: temp.url)
        #expect(result.status == 65 && result.stderr.contains("not written, `rbench check` would reject it: duplicate entry"), "\(result.stderr)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: temp.path("Baselines/claims/tiny").path)) ?? []
        #expect(written.isEmpty, "nothing written: \(written)")
    }
}

/// Runs `rbench` so that file permissions apply: as `nobody` through setpriv when root, directly otherwise.
struct UnprivilegedRunner {
    let rbench: URL
    let prefix: [String]
    let executable: URL

    init?(rbench: URL) {
        self.rbench = rbench
        if getuid() != 0 {
            executable = rbench
            prefix = []
            return
        }
        let setpriv = URL(fileURLWithPath: "/usr/bin/setpriv")
        guard FileManager.default.isExecutableFile(atPath: setpriv.path) else { return nil }
        executable = setpriv
        prefix = ["--reuid=65534", "--regid=65534", "--clear-groups", rbench.path]
    }

    func call(_ arguments: [String], in directory: URL) throws -> ProcessResult {
        try runProcess(executable, prefix + arguments, in: directory)
    }
}
