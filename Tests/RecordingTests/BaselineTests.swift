import Foundation
import Testing
import TestSupport
@testable import Recording

@Suite struct BaselineTests {
    @Test func serializesWithFixedKeyOrderAndRoundTripsExactly() throws {
        let run = testRun(results: [result(metrics: [MetricRecord(name: "corr", layer: 2, value: 0.1 + 0.2),
                                                     MetricRecord(name: "nan", value: .nan), MetricRecord(name: "z", value: -0.0),
                                                     MetricRecord(name: "inf", value: -.infinity),
                                                     MetricRecord(name: "t", value: 1, samples: [1, 2])])])
        let (file, changed) = BaselineUpdate.apply(run: run, to: nil, reason: "first \"quoted\"")
        #expect(changed.count == 4, "timing metrics are not baselined")
        let text = file.serialized()
        let lines = text.split(separator: "\n")
        #expect(lines[0].hasPrefix("{\"schema\":3,\"suite\":\"smoke\",\"determinism_class\":"))
        // The reason is written once, on a reason line whose id is a content hash, and lines refer to it.
        let id = BaselineReason(text: "first \"quoted\"", setBy: "1111111111111111111111111111111111111111").id
        #expect(id.count == 10)
        #expect(lines[1] == #"{"reason_id":""# + id + #"","text":"first \"quoted\"","set_by":"1111111111111111111111111111111111111111"}"#)
        #expect(text.components(separatedBy: "first").count == 2, "the reason text is written once")
        // TD-1 correlations carry their family's cross-class tolerance (measured between Cooperlake and Zen kernels).
        #expect(lines[2] == #"{"check":"TD-1/model","metric":"corr[2]","value":0.30000000000000004,"bits":"3fd3333333333334","tol":{"abs":0.005,"rel":0.05},"verdict":"supported","epoch":1,"reason":""# + id + #""}"#)
        #expect(text.contains(#""value":"NaN""#) && text.contains(#""value":"-0""#) && text.contains(#""value":"-Infinity""#))
        let parsed = try BaselineFile.parse(text, path: "B.jsonl")
        #expect(parsed.entries.map(\.value.bitPattern) == file.entries.map(\.value.bitPattern))
        #expect(parsed.header == file.header)
        #expect(parsed.serialized() == text)
    }

    @Test func updateRewritesOnlyMovedLines() throws {
        let first = testRun(results: [result(metrics: [MetricRecord(name: "a", value: 1), MetricRecord(name: "b", value: 2),
                                                       MetricRecord(name: "gone", value: 3)])])
        let (original, _) = BaselineUpdate.apply(run: first, to: nil, reason: "initial")
        let second = testRun(commit: "2222222222222222222222222222222222222222",
                             results: [result(metrics: [MetricRecord(name: "a", value: 1), MetricRecord(name: "b", value: 2.5),
                                                        MetricRecord(name: "new", value: 4)])])
        let (updated, changed) = BaselineUpdate.apply(run: second, to: original, reason: "kernel change")
        #expect(changed == ["TD-1/model b", "TD-1/model gone (removed)", "TD-1/model new"])
        let oldLines = Set(original.serialized().split(separator: "\n").dropFirst())
        let newLines = updated.serialized().split(separator: "\n").dropFirst()
        let unchanged = newLines.filter(oldLines.contains)
        let initial = BaselineReason(text: "initial", setBy: "1111111111111111111111111111111111111111").id
        // The line that did not move is byte-identical, and so is the reason line it refers to.
        #expect(unchanged.count == 2 && unchanged.contains { $0.contains(#""reason_id":""# + initial) }
                && unchanged.contains { $0.contains(#""metric":"a""#) && $0.contains(#""reason":""# + initial) })
        let b = try #require(updated.entry(check: "TD-1/model", metric: "b"))
        #expect(b.epoch == 2 && b.reason == "kernel change" && b.setBy.hasPrefix("2222"))
        #expect(updated.entry(check: "TD-1/model", metric: "new")?.epoch == 1)
    }

    @Test func malformedFilesNameTheLineAndKey() {
        let header = #"{"schema":1,"suite":"s","determinism_class":"c","class_fields":{},"model_sha256":"m","corpus_sha256":{},"suite_sha256":"x"}"#
        let good = #"{"check":"C/model","metric":"m","value":0.5,"bits":"3fe0000000000000","tol":{"abs":0,"rel":0,"ulp":0},"verdict":"supported","epoch":1,"reason":"r","set_by":"s"}"#
        func error(_ text: String) -> String {
            do { _ = try BaselineFile.parse(text, path: "Baselines/claims/s/c.jsonl"); return "no error" } catch { return error.description }
        }
        #expect(error("\(header)\n\(good)\n") == "no error")
        #expect(error("\(header)\n\(good.replacingOccurrences(of: "0.5", with: "0.25"))\n").hasPrefix("Baselines/claims/s/c.jsonl:2: key 'value': 0.25 does not parse to bits 3fe0000000000000"))
        #expect(error("\(header)\n\(good)\n\(good.replacingOccurrences(of: "\"epoch\":1", with: "\"epoch\":\"one\""))").hasPrefix("Baselines/claims/s/c.jsonl:3: key 'epoch'"))
        #expect(error("\(header)\n\(good.replacingOccurrences(of: "\"reason\"", with: "\"reasons\""))").contains(":2: unknown key 'reasons'"))
        #expect(error("\(header)\n{not json").hasPrefix("Baselines/claims/s/c.jsonl:2: not a JSON object"))
        #expect(error(header.replacingOccurrences(of: "\"schema\":1", with: "\"schema\":9")).contains(":1: key 'schema'"))
        #expect(error("\(header)\n\(good)\n\(good)").contains(":3: duplicate entry"))
    }

    @Test func schemaTwoFilesAreReadAndRewrittenAsSchemaThreeWithTheSameLines() throws {
        let two = #"{"schema":2,"suite":"s","determinism_class":"c","class_fields":{},"model_sha256":"m","corpus_sha256":{},"suite_sha256":"x"}"#
        let lines = [two,
                     #"{"check":"C/model","criterion":"gate","statistic":"r","comparison":">=","threshold":0.5,"threshold_bits":"3fe0000000000000","interval":[0.5,0.75],"interval_bits":["3fe0000000000000","3fe8000000000000"],"outcome":"held","tol":{"abs":0,"rel":0,"ulp":0},"verdict":"supported","epoch":2,"reason":"kernels","set_by":"bbbb"}"#,
                     #"{"check":"C/model","metric":"a","value":0.5,"bits":"3fe0000000000000","tol":{"abs":0.001,"rel":0,"ulp":3},"verdict":"supported","epoch":1,"reason":"first","set_by":"aaaa"}"#,
                     #"{"check":"C/model","metric":"b","value":0.5,"bits":"3fe0000000000000","tol":{"abs":0,"rel":0,"ulp":0},"verdict":"supported","epoch":2,"reason":"kernels","set_by":"bbbb"}"#]
        let old = try BaselineFile.parse(lines.joined(separator: "\n"), path: "old.jsonl")
        let text = old.serialized()
        let new = try BaselineFile.parse(text, path: "new.jsonl")
        #expect(new.entries == old.entries && new.criteria == old.criteria)
        #expect(new.header.schema == 3 && text.hasPrefix(#"{"schema":3,"#))
        #expect(text.split(separator: "\n").filter { $0.contains("reason_id") }.count == 2, "one line per (reason, set_by)")
        #expect(text.contains(#""ulp":3"#), "a non-zero ulp tolerance is kept")
        #expect(new.serialized() == text)
    }

    @Test func schemaThreeReasonReferencesAreChecked() {
        let three = #"{"schema":3,"suite":"s","determinism_class":"c","class_fields":{},"model_sha256":"m","corpus_sha256":{},"suite_sha256":"x"}"#
        let id = BaselineReason(text: "r", setBy: "s").id
        let reason = #"{"reason_id":""# + id + #"","text":"r","set_by":"s"}"#
        let entry = #"{"check":"C/model","metric":"m","value":0.5,"bits":"3fe0000000000000","tol":{"abs":0,"rel":0},"verdict":"supported","epoch":1,"reason":""# + id + #""}"#
        #expect(parseError([three, reason, entry].joined(separator: "\n")) == "no error")
        #expect(parseError([three, entry, reason].joined(separator: "\n")) == "no error", "reason lines may stand anywhere")
        #expect(parseError([three, entry].joined(separator: "\n")).contains(":2: key 'reason': '\(id)' names no reason line"))
        #expect(parseError([three, reason.replacingOccurrences(of: #""text":"r""#, with: #""text":"edited""#), entry].joined(separator: "\n"))
            .contains(":2: key 'reason_id'"))
        #expect(parseError([three, reason, reason, entry].joined(separator: "\n")).contains(":3: duplicate reason"))
        #expect(parseError([three, reason, entry.replacingOccurrences(of: id + #""}"#, with: id + #"","set_by":"s"}"#)].joined(separator: "\n"))
            .contains(":3: unknown key 'set_by'"))
        #expect(parseError([Self.header, reason].joined(separator: "\n")).contains(":2: a reason line needs schema 3"))
        #expect(parseError([Self.header, Self.line("a").replacingOccurrences(of: #","set_by":"s""#, with: "")].joined(separator: "\n"))
            .contains(":2: missing key 'set_by'"))
    }

    static let header = #"{"schema":1,"suite":"s","determinism_class":"c","class_fields":{},"model_sha256":"m","corpus_sha256":{},"suite_sha256":"x"}"#
    static func line(_ metric: String, verdict: String = "supported", tol: String = #"{"abs":0,"rel":0,"ulp":0}"#) -> String {
        #"{"check":"C/model","metric":""# + metric + #"","value":0.5,"bits":"3fe0000000000000","tol":"# + tol
            + #","verdict":""# + verdict + #"","epoch":1,"reason":"r","set_by":"s"}"#
    }

    func parseError(_ text: String, path: String = "Baselines/claims/s/c.jsonl") -> String {
        do { _ = try BaselineFile.parse(text, path: path); return "no error" } catch { return error.description }
    }

    @Test func theExpectedVerdictBelongsToTheCheckOnEveryLine() throws {
        let agreeing = [Self.header, Self.line("a"), Self.line("b"), Self.line("c")].joined(separator: "\n")
        #expect(parseError(agreeing) == "no error")
        // Flipping any one line (not only the first) is caught, naming both lines.
        let flipped = [Self.header, Self.line("a"), Self.line("b"), Self.line("c", verdict: "refuted")].joined(separator: "\n")
        #expect(parseError(flipped).hasPrefix("Baselines/claims/s/c.jsonl:4: key 'verdict': 'refuted' disagrees with line 2"), "\(parseError(flipped))")

        // The verdict of a check does not depend on the order lines were given in.
        let entries = ["z", "a", "m"].map { BaselineEntry(check: "C/model", metric: $0, value: 1, verdict: .refuted, epoch: 1, reason: "", setBy: "") }
        let header = try BaselineFile.parse(Self.header, path: "h").header
        #expect(BaselineFile(header: header, entries: entries).verdict(ofCheck: "C/model") == .refuted)
        #expect(BaselineFile(header: header, entries: entries.reversed()) == BaselineFile(header: header, entries: entries))
    }

    @Test func tolerancesMustBeFiniteAndNonNegative() {
        #expect(parseError([Self.header, Self.line("a", tol: #"{"abs":-1e-6,"rel":0,"ulp":0}"#)].joined(separator: "\n"))
            .contains(":2: key 'tol.abs': -1e-06 is not allowed"))
        #expect(parseError([Self.header, Self.line("a", tol: #"{"abs":0,"rel":-0.5,"ulp":0}"#)].joined(separator: "\n"))
            .contains(":2: key 'tol.rel': -0.5 is not allowed"))
        #expect(parseError([Self.header, Self.line("a", tol: #"{"abs":0,"rel":0,"ulp":-3}"#)].joined(separator: "\n"))
            .contains(":2: key 'tol.ulp': -3.0 is not allowed"))
        #expect(parseError([Self.header, Self.line("a", tol: #"{"abs":0,"rel":0,"ulp":1.5}"#)].joined(separator: "\n"))
            .contains(":2: key 'tol.ulp': 1.5 is not a whole number"))
        #expect(parseError([Self.header, Self.line("a", tol: #"{"abs":1e-6,"rel":1e-4,"ulp":4}"#)].joined(separator: "\n")) == "no error")
    }

    @Test func crlfAndAByteOrderMarkAreAccepted() throws {
        let lf = [Self.header, Self.line("a"), Self.line("b")].joined(separator: "\n") + "\n"
        let crlf = "\u{FEFF}" + lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try BaselineFile.parse(crlf, path: "p") == BaselineFile.parse(lf, path: "p"))
        #expect(parseError("\(Self.header)\n{oops").contains(":2: not a JSON object (the line starts \"{oops\")"))
    }

    @Test func theHeaderMustMatchTheFilesPath() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let run = testRun(results: [result(metrics: [MetricRecord(name: "a", value: 1)])])
        let (file, _) = BaselineUpdate.apply(run: run, to: nil, reason: "r")
        let good = BaselineFile.url(in: temp.url, suite: "smoke", determinismClass: run.environment.determinismClass)
        try file.write(to: good)
        #expect(try BaselineFile.load(good) == file)

        // Copied under another class's name: refused, since it would judge the wrong runs bitwise.
        let renamed = BaselineFile.url(in: temp.url, suite: "smoke", determinismClass: "0123456789abcdef")
        try FileManager.default.copyItem(at: good, to: renamed)
        #expect(throws: RecordingError.self) { try BaselineFile.load(renamed) }
        do { _ = try BaselineFile.load(renamed) } catch {
            #expect(error.description.contains(":1: key 'determinism_class': '\(run.environment.determinismClass)' does not match the file name 0123456789abcdef.jsonl"))
            #expect(error.exitCode == 65)
        }
        let otherSuite = BaselineFile.url(in: temp.url, suite: "paper", determinismClass: run.environment.determinismClass)
        try FileManager.default.createDirectory(at: otherSuite.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: good, to: otherSuite)
        do { _ = try BaselineFile.load(otherSuite); Issue.record("a file under another suite's folder loaded") } catch {
            #expect(error.description.contains("key 'suite': 'smoke' does not match the folder claims/paper/"))
        }
    }

    @Test func aFileCheckWouldRejectIsNeverWritten() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // A control listed twice in a suite gives two results for one check.
        let twice = testRun(results: [result(subject: "shuffle", verdict: .refuted, expected: .refuted, metrics: [MetricRecord(name: "a", value: 1)]),
                                      result(subject: "shuffle", verdict: .refuted, expected: .refuted, metrics: [MetricRecord(name: "a", value: 2)])])
        let (file, _) = BaselineUpdate.apply(run: twice, to: nil, reason: "init")
        let url = BaselineFile.url(in: temp.url, suite: "smoke", determinismClass: twice.environment.determinismClass, candidate: true)
        do { try file.write(to: url); Issue.record("wrote a baseline with a duplicate line") } catch {
            #expect(error.description.contains("not written, `rbench check` would reject it: duplicate entry for check 'TD-1/shuffle' metric 'a'"), "\(error)")
            #expect(error.exitCode == 65)
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }
}
