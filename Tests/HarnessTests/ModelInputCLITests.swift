import Claims
import Foundation
import GGUF
import Testing
import TestSupport
import Tokenization
@testable import Harness
@testable import Recording

/// The engine-facing commands on bad model, prompt and tokens files (issue 13), run through the
/// built `rbench` as a shell would: each case exits with its documented code and names the file.
@Suite struct ModelInputCLITests {
    let rbench: URL? = builtRBench()
    let temp: TemporaryDirectory

    init() throws {
        temp = try TemporaryDirectory(prefix: "rbench-inputs")
    }

    /// A tiny llama with the tiny SentencePiece vocabulary; `settings` override metadata (without the `llama.` prefix).
    @discardableResult
    func writeModel(_ name: String = "tiny.gguf", _ settings: [String: GGUFValue] = [:]) throws -> URL {
        let spec = TinyModelSpec(vocabularySize: TinyVocabulary.tokens.count)
        var writer = try TinyModelFixture.writer(spec)
        TinyVocabulary.add(to: &writer)
        for (key, value) in settings { writer.setValue(value, forKey: "llama." + key) }
        let url = temp.path(name)
        try writer.write(to: url)
        return url
    }

    func call(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(try #require(rbench, "rbench must be built next to the test bundle"), arguments, in: temp.url)
    }

    /// Runs a bash command line in the temporary folder with `$RBENCH` set; returns its stdout.
    func bash(_ script: String) throws -> ProcessResult {
        let path = try #require(rbench, "rbench must be built next to the test bundle").path
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["bash", "-c", "RBENCH='\(path)'; " + script], in: temp.url)
    }

    func tokenizer() throws -> any Tokenizer {
        try Tokenizers.load(contentsOf: temp.path("tiny.gguf"))
    }

    // MARK: Prompt files

    @Test func tokenizeKeepsEveryLineAndAcceptsCRLF() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("lf.txt", "hello ab\n\nabc\n")
        try temp.write("crlf.txt", "hello ab\r\n\r\nabc\r\n")
        try temp.write("no-final-newline.txt", "hello ab\r\n\r\nabc")
        let lf = try call(["tokenize", "--model", "tiny.gguf", "--prompts", "lf.txt"])
        #expect(lf.status == 0, "\(lf.stderr)")
        let t = try tokenizer()
        let expected = ["hello ab", "", "abc"].map { t.encode($0, addSpecial: true).map(String.init).joined(separator: " ") }
        #expect(lf.stdout == expected.joined(separator: "\n") + "\n", "one line of ids per input line, the empty one included")
        #expect(try call(["tokenize", "--model", "tiny.gguf", "--prompts", "crlf.txt"]).stdout == lf.stdout)
        #expect(try call(["tokenize", "--model", "tiny.gguf", "--prompts", "no-final-newline.txt"]).stdout == lf.stdout)
        let json = try call(["tokenize", "--model", "tiny.gguf", "--prompts", "crlf.txt", "--json"])
        #expect(try JSONDecoder().decode([[Int]].self, from: Data(json.stdout.utf8)).count == 3)
    }

    @Test func tokenizeNoBOSAndSpecialAreLlamaCppsOptions() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("chat.txt", "<|im_start|>ab\n")
        let t = try tokenizer()
        func ids(_ extra: [String]) throws -> [Int] {
            let result = try call(["tokenize", "--model", "tiny.gguf", "--prompts", "chat.txt"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        }
        let plain = try ids([])
        #expect(plain.first == TinyVocabulary.bosID && !plain.contains(TinyVocabulary.controlID), "not parsed by default")
        #expect(try ids(["--no-bos"]) == Array(plain.dropFirst()))
        let special = try ids(["--special"])
        #expect(special == t.encode("<|im_start|>ab", addSpecial: true, parseSpecial: true))
        #expect(special.prefix(2) == [TinyVocabulary.bosID, TinyVocabulary.controlID])
        #expect(try ids(["--special", "--no-bos"]) == Array(special.dropFirst()))
    }

    @Test func emptyAndMissingPromptFilesAreRefusedNamingTheFile() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("empty.txt", "")
        try temp.write("gap.txt", "ab\r\n\r\nabc\r\n")
        for command in ["tokenize", "trace"] {
            let out = command == "trace" ? ["--out", "trace-out"] : []
            let empty = try call([command, "--model", "tiny.gguf", "--prompts", "empty.txt"] + out)
            #expect(empty.status == 65 && empty.stderr.contains("empty.txt: has no lines"), "\(command): \(empty.stderr)")
            let missing = try call([command, "--model", "tiny.gguf", "--prompts", "absent.txt"] + out)
            #expect(missing.status == 65 && missing.stderr.contains("absent.txt"), "\(command): \(missing.stderr)")
        }
        let gap = try call(["trace", "--model", "tiny.gguf", "--prompts", "gap.txt", "--out", "trace-out"])
        #expect(gap.status == 65 && gap.stderr.contains("gap.txt:2: empty line"), "\(gap.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.path("trace-out/residual.npy").path), "nothing written for a refused input")
    }

    @Test func traceReadsCRLFLikeLFAndCanSkipLogits() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("lf.txt", "hello ab\nabc\n")
        try temp.write("crlf.txt", "hello ab\r\nabc\r\n")
        for (name, out) in [("lf.txt", "lf"), ("crlf.txt", "crlf")] {
            let result = try call(["trace", "--model", "tiny.gguf", "--prompts", name, "--out", out])
            #expect(result.status == 0, "\(result.stderr)")
        }
        for file in ["residual.npy", "logits.npy", "tokens.json"] {
            #expect(try Data(contentsOf: temp.path("lf/\(file)")) == Data(contentsOf: temp.path("crlf/\(file)")), "\(file)")
        }
        let skipped = try call(["trace", "--model", "tiny.gguf", "--prompts", "lf.txt", "--out", "nologits", "--no-logits"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.path("nologits/logits.npy").path))
        #expect(try Data(contentsOf: temp.path("nologits/residual.npy")) == Data(contentsOf: temp.path("lf/residual.npy")))
        #expect(try String(contentsOf: temp.path("nologits/meta.json"), encoding: .utf8).contains("\"logits\" : false"))
        let misuse = try call(["trace", "--model", "tiny.gguf", "--tokens", "lf/tokens.json", "--out", "x", "--no-bos"])
        #expect(misuse.status == 64)
    }

    @Test func malformedTokensFilesAreRefused() throws {
        defer { temp.remove() }
        try writeModel()
        let cases: [(String, String, String)] = [
            ("mismatch.json", #"{"prompts": ["a", "b"], "tokens": [[1, 3]], "add_bos": true}"#, "\"prompts\" has 2 entries but \"tokens\" has 1"),
            ("none.json", #"{"prompts": [], "tokens": [], "add_bos": true}"#, "has no prompts"),
            ("hollow.json", #"{"prompts": ["a"], "tokens": [[]], "add_bos": true}"#, "tokens[0] is empty"),
            ("outside.json", #"{"prompts": ["a"], "tokens": [[1, 99999]], "add_bos": true}"#, "tokens[0] holds id 99999"),
            ("garbage.json", "not json", "not a tokens.json file"),
        ]
        for (name, text, message) in cases {
            try temp.write(name, text)
            let result = try call(["trace", "--model", "tiny.gguf", "--tokens", name, "--out", "t"])
            #expect(result.status == 65 && result.stderr.contains("\(name): \(message)"), "\(name): \(result.stderr)")
        }
    }

    // MARK: Model files and exit codes

    @Test("tokenize, trace, generate and bench exit 65 for a missing or malformed GGUF, 64 for usage")
    func exitCodesOfTheEngineCommands() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("p.txt", "ab\n")
        try temp.write("garbage.gguf", "definitely not a model")
        try writeModel("no-heads.gguf", ["attention.head_count": .uint32(0)])
        func commands(_ model: String) -> [[String]] {
            [["tokenize", "--model", model, "--prompts", "p.txt"],
             ["trace", "--model", model, "--prompts", "p.txt", "--out", "t"],
             ["generate", "--model", model, "--prompt", "ab", "--count", "2"],
             ["bench", "--model", model, "--prompts", "1", "--tokens", "2", "--repetitions", "1"]]
        }
        for arguments in commands("absent.gguf") + commands("garbage.gguf") {
            let result = try call(arguments)
            #expect(result.status == 65, "\(arguments.joined(separator: " ")): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(arguments[2]), "\(arguments[0]) names the file: \(result.stderr)")
        }
        // tokenize reads only the tokenizer; the others refuse the model setting, naming key and value.
        for arguments in commands("no-heads.gguf").dropFirst() {
            let result = try call(arguments)
            #expect(result.status == 65 && result.stderr.contains("no-heads.gguf: invalid model setting llama.attention.head_count = 0"),
                    "\(arguments[0]): \(result.status) \(result.stderr)")
        }
        for arguments in commands("tiny.gguf") {
            let result = try call(arguments)
            #expect(result.status == 0, "\(arguments[0]): \(result.stderr)")
        }
        for usage in [["tokenize", "--bogus"], ["trace", "--model", "tiny.gguf", "--out", "t"], ["generate", "--model", "tiny.gguf", "--prompt", "ab", "--count", "-1"],
                      ["bench", "--model", "tiny.gguf", "--prompts", "0"]] {
            #expect(try call(usage).status == 64, "\(usage.joined(separator: " "))")
        }
    }

    // MARK: Closed and broken standard streams

    @Test("a reader that goes away (| head -1) or a closed stdout/stderr neither kills nor crashes rbench")
    func brokenPipes() throws {
        defer { temp.remove() }
        try writeModel()
        try temp.write("many.txt", String(repeating: "hello ab abc\n", count: 100_000))
        let piped = try bash(#""$RBENCH" tokenize --model tiny.gguf --prompts many.txt | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}""#)
        #expect(piped.stdout == "status 0\n", "killed by SIGPIPE would be 141: \(piped.stdout) \(piped.stderr)")
        let closedError = try bash(#""$RBENCH" tokenize --model tiny.gguf --prompts absent.txt 2>&-; echo "status $?""#)
        #expect(closedError.stdout == "status 65\n", "\(closedError.stdout) \(closedError.stderr)")
        let closedOutput = try bash(#""$RBENCH" tokenize --model tiny.gguf --prompts many.txt >&-; echo "status $?""#)
        #expect(closedOutput.stdout == "status 0\n", "\(closedOutput.stdout) \(closedOutput.stderr)")
    }

    @Test("rbench run … 2>&1 | head -1 completes and records its run")
    func runWithABrokenPipeIsRecorded() throws {
        defer { temp.remove() }
        try writeModel()
        let corpus = String(repeating: "hello ab abc. abc ab hello, ab abc hello ab.\n", count: 80)
        try temp.write("corpora/text.txt", corpus)
        try temp.write("Suites/pipe.yaml", """
            suite: pipe
            model: {file: SmolLM2-135M-Instruct.Q4_1.gguf, sha256: \(String(repeating: "0", count: 64))}
            corpora:
              text: {path: text.txt, sha256: \(Recording.SHA256.hex(corpus))}
            seed: 7
            claims:
              - {id: TD-2, corpus: text, sampling: {count: 6, tokens: 8}, controls: [{name: random-init, expect: refuted}]}
            """)
        let run = #""$RBENCH" run --suite Suites/pipe.yaml --model tiny.gguf --corpora corpora --db results/r.sqlite"#
        let piped = try bash(run + #" 2>&1 | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}""#)
        let closed = try bash(run + #" >&- 2>&-; echo "status $?""#)
        for result in [piped, closed] {
            let status = try #require(Int32(result.stdout.dropFirst("status ".count).dropLast()), "\(result.stdout) \(result.stderr)")
            #expect(status < 128, "not killed by a signal: \(status)")
        }
        let store = try ResultStore(path: temp.path("results/r.sqlite").path)
        let runs = try store.runs()
        #expect(runs.count == 2 && runs.allSatisfy { $0.status == .complete && $0.resultCount == 2 }, "\(runs)")
    }
}
