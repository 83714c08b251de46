import Foundation
import Testing
import TestSupport
@testable import Harness
import Claims

/// A suite folder with a fake model and one corpus, so suite files can point at real files.
struct SuiteFixture {
    let temp: TemporaryDirectory
    let modelSHA: String
    let corpusSHA: String

    init() throws {
        temp = try TemporaryDirectory(prefix: "rbench-suite")
        try temp.write("models/tiny.gguf", "not really a model")
        try temp.write("corpora/wiki/test.txt", "some text\n")
        modelSHA = SHA256Text.of("not really a model")
        corpusSHA = SHA256Text.of("some text\n")
    }

    func yaml(claims: String = "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 8}, params: {threshold: 0.5, layers: [1, 2]}, controls: [{name: shuffle, expect: refuted}]}\n") -> String {
        """
        suite: tiny
        model: {file: tiny.gguf, package: llm-tiny, sha256: \(modelSHA)}
        corpora:
          wiki: {path: wiki/test.txt, sha256: \(corpusSHA)}
        seed: 1234
        random_init: {seed: 1, std: 0.02, rng: pcg64-xslrr-polar-boxmuller}
        claims:
        \(claims)
        """
    }

    func load(_ text: String, registry: ClaimRegistry = ClaimRegistry([ScriptedClaim()])) throws(SuiteError) -> Suite {
        let url = try! temp.write("Suites/tiny.yaml", text)
        return try Suite.load(url, corporaRoots: [temp.path("corpora")], modelsDirectory: temp.path("models"), registry: registry)
    }

    func error(_ text: String) -> String {
        do { _ = try load(text); return "no error" } catch { return error.description }
    }
}

enum SHA256Text {
    static func of(_ text: String) -> String { Recording.SHA256.hex(text) }
}

import Recording
import Analysis
import Evidence

@Suite struct SuiteTests {
    @Test func parsesTheDocumentedShape() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let suite = try fixture.load(fixture.yaml())
        #expect(suite.name == "tiny" && suite.seed == 1234 && suite.model.package == "llm-tiny")
        #expect(suite.corpora["wiki"]?.path == fixture.temp.path("corpora/wiki/test.txt"))
        #expect(suite.randomInit?.std == 0.02)
        let claim = try #require(suite.claims.first)
        #expect(claim.id == "T-1" && claim.line == 8 && claim.seed == 1234)
        #expect(claim.parameters.double("threshold", default: 0) == 0.5)
        #expect(claim.parameters.ints("layers", default: []) == [1, 2])
        #expect(claim.parameters.string("corpus", default: "") == "wiki")
        #expect(claim.parameters.int("sequences", default: 0) == 4 && claim.parameters.int("tokens", default: 0) == 8)
        #expect(claim.controls.first?.name == "shuffle" && claim.controls.first?.expect == .refuted)

        // Formatting and comments do not change the canonical hash; a parameter does.
        let reformatted = try fixture.load("# comment\n" + fixture.yaml().replacingOccurrences(of: "seed: 1234", with: "seed:   1234  # master"))
        #expect(reformatted.sha256 == suite.sha256)
        let changed = try fixture.load(fixture.yaml().replacingOccurrences(of: "threshold: 0.5", with: "threshold: 0.6"))
        #expect(changed.sha256 != suite.sha256)
    }

    @Test func errorsNameFileLineAndKey() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let path = fixture.temp.path("Suites/tiny.yaml").path
        let good = fixture.yaml()
        #expect(fixture.error(good + "colour: blue\n") == "\(path):9: key 'colour': unknown key (allowed here: claims, corpora, criteria, model, random_init, resampling, seed, suite)")
        #expect(fixture.error(good.replacingOccurrences(of: "seed: 1234", with: "seed: many")) == "\(path):5: key 'seed': expected a non-negative integer, found 'many'")
        #expect(fixture.error(good.replacingOccurrences(of: "count: 4", with: "count: four")).hasPrefix("\(path):8: key 'claims[0].sampling.count': expected a positive integer"))
        #expect(fixture.error(good.replacingOccurrences(of: "wiki/test.txt", with: "wiki/absent.txt")).hasPrefix("\(path):4: key 'corpora.wiki.path': corpus wiki/absent.txt"))
        #expect(fixture.error(good.replacingOccurrences(of: "wiki/test.txt", with: "wiki/absent.txt")).contains("put it under"))
        #expect(fixture.error(good.replacingOccurrences(of: "tiny.gguf", with: "absent.gguf")).hasPrefix("\(path):2: key 'model.file':"))
        #expect(fixture.error(good.replacingOccurrences(of: "corpus: wiki", with: "corpus: books")).hasPrefix("\(path):8: key 'claims[0].corpus': no corpus named 'books'"))
        #expect(fixture.error(good.replacingOccurrences(of: "suite: tiny\n", with: "")).contains("key 'suite': missing required key"))
        #expect(fixture.error(good + "claims: [\n").hasPrefix("\(path):"))
        #expect(fixture.error(good.replacingOccurrences(of: "expect: refuted", with: "expect: maybe")).hasPrefix("\(path):8: key 'claims[0].controls[0].expect'"))
    }

    @Test("parameters are typed per claim: an unknown key or a wrong type is refused, never defaulted")
    func typedParameters() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let good = fixture.yaml()
        let unknown = fixture.error(good.replacingOccurrences(of: "threshold: 0.5", with: "thresholdz: 0.5"))
        #expect(unknown.contains("key 'claims[0].params.thresholdz': T-1 has no parameter 'thresholdz' (it takes: threshold, layers"))
        let mistyped = fixture.error(good.replacingOccurrences(of: "threshold: 0.5", with: "threshold: fifty"))
        #expect(mistyped.contains("key 'claims[0].params.threshold': expected a number, found 'fifty'"))
        #expect(fixture.error(good.replacingOccurrences(of: "layers: [1, 2]", with: "layers: [1, two]")).contains("expected a list of integers"))
    }

    @Test("unknown generators, duplicate controls and empty claim lists are refused at parse time")
    func refusals() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let good = fixture.yaml()
        #expect(fixture.error(good.replacingOccurrences(of: "rng: pcg64-xslrr-polar-boxmuller", with: "rng: mersenne"))
            .contains("key 'random_init.rng': unknown generator 'mersenne'"))
        #expect(fixture.error(good.replacingOccurrences(of: "controls: [{name: shuffle, expect: refuted}]",
                                                        with: "controls: [shuffle, {name: shuffle, expect: refuted}]"))
            .contains("control 'shuffle' is listed twice"))
        #expect(fixture.error(fixture.yaml(claims: "  []\n").replacingOccurrences(of: "claims:\n  []", with: "claims: []")).contains("the list is empty"))
        #expect(fixture.error(fixture.yaml(claims: "  - {id: NOPE-1}\n")).contains("key 'claims[0].id': unknown claim 'NOPE-1'"))
    }

    @Test("a sampling count below the check's minimum is refused with the check, the minimum and the key")
    func sampleMinimum() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let message = fixture.error(fixture.yaml().replacingOccurrences(of: "count: 4", with: "count: 2"))
        #expect(message.contains(":8: key 'claims[0].sampling.count': T-1 needs at least 3 sequences, got 2: a scripted minimum"))
        let missing = fixture.error(fixture.yaml(claims: "  - {id: T-1}\n"))
        #expect(missing.contains("T-1 samples a corpus: give `corpus:` and `sampling:"))
    }

    @Test("overrides need a known criterion and a reason; resampling settings are checked")
    func overridesAndResampling() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let good = fixture.yaml()
        let suite = try fixture.load(good + "criteria: {T-1: {score_min: {value: 0.4, reason: \"because\"}}}\nresampling: {level: 0.9, replicates: 200, groups: 8}\n")
        #expect(suite.claims[0].overrides["score_min"] == ThresholdOverride(value: 0.4, reason: "because", original: 0.5))
        #expect(suite.resampling == ResamplingSettings(level: 0.9, replicates: 200, groups: 8))
        #expect(suite.sha256 != (try fixture.load(good)).sha256, "overrides and resampling are part of the definition")
        #expect(fixture.error(good + "criteria: {T-1: {score_max: {value: 0.4, reason: x}}}\n").contains("T-1 has no criterion 'score_max' (it has: score_min)"))
        #expect(fixture.error(good + "criteria: {T-1: {score_min: {value: 0.4}}}\n").contains("key 'criteria.T-1.score_min.reason': an override must give its reason"))
        #expect(fixture.error(good + "criteria: {T-1: {score_min: {value: 0.4, reason: \" \"}}}\n").contains("the reason is empty"))
        #expect(fixture.error(good + "criteria: {T-9: {score_min: {value: 0.4, reason: x}}}\n").contains("the suite runs no claim 'T-9'"))
        #expect(fixture.error(good + "resampling: {replicates: 20}\n").contains("use at least 100"))
        #expect(fixture.error(good + "resampling: {level: 1.5}\n").contains("a coverage between 0.5 and 1"))
    }

    @Test("a claim may run twice on different corpora under distinct variants")
    func variants() throws {
        let fixture = try SuiteFixture()
        defer { fixture.temp.remove() }
        let twice = fixture.yaml(claims: "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 8}}\n  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 8}}\n")
        #expect(fixture.error(twice).contains("claim T-1 is listed twice (give the second one a distinct `variant:`)"))
        let suite = try fixture.load(twice.replacingOccurrences(of: "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 8}}\n  - {id: T-1,",
                                                                  with: "  - {id: T-1, corpus: wiki, sampling: {count: 4, tokens: 8}}\n  - {id: T-1, variant: again,"))
        #expect(suite.claims.map(\.recordedID) == ["T-1", "T-1@again"])
    }
}

@Suite struct ShippedSuiteTests {
    /// Every `Suites/*.yaml` parses, finds its corpora under `../shared/corpora`, and names only
    /// claims and controls this build registers: a broken suite fails here, not in a user's run.
    @Test func everyShippedSuiteLoadsAndValidates() throws {
        let suites = Fixtures.packageRoot.appendingPathComponent("Suites")
        let files = try FileManager.default.contentsOfDirectory(at: suites, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }.sorted { $0.path < $1.path }
        #expect(files.count >= 4)
        // Model files only need to exist for loading; the runner hashes them later.
        let models = try TemporaryDirectory(prefix: "rbench-shipped-suites")
        defer { models.remove() }
        // The real files where they are fetched (a `count: minimum` reads the model's width), else empty stand-ins.
        try FileManager.default.createDirectory(at: models.path("models"), withIntermediateDirectories: true)
        for model in ModelCatalog.all {
            let real = Fixtures.model(model.file)
            // Not `Fixtures.available`: under CI that is true for unfetched models too, and the 1.5B is never fetched there.
            if FileManager.default.fileExists(atPath: real.path) {
                try FileManager.default.createSymbolicLink(at: models.path("models/\(model.file)"), withDestinationURL: real)
            } else {
                try models.write("models/\(model.file)", "")
            }
        }
        for file in files {
            do {
                let suite = try Suite.load(file, corporaRoots: [Fixtures.sharedDirectory.appendingPathComponent("corpora")],
                                           modelsDirectory: models.path("models"))
                try SuiteRunner.validate(suite, against: ClaimCatalog.registry)
                #expect(!suite.claims.isEmpty, "\(file.lastPathComponent) runs no claims")
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }
}
