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
        #expect(lines[0].hasPrefix("{\"schema\":2,\"suite\":\"smoke\",\"determinism_class\":"))
        #expect(lines[1] == #"{"check":"TD-1/model","metric":"corr[2]","value":0.30000000000000004,"bits":"3fd3333333333334","tol":{"abs":1e-06,"rel":0.0001,"ulp":0},"verdict":"supported","epoch":1,"reason":"first \"quoted\"","set_by":"1111111111111111111111111111111111111111"}"#)
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
        #expect(unchanged.count == 1 && unchanged[0].contains(#""metric":"a""#) && unchanged[0].contains(#""reason":"initial""#))
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
}
