import Foundation
import NPY

/// Where tests find the real model, the reference fixtures and the corpora.
///
/// Paths resolve from this source file, so tests work from any working directory:
/// models in `<package>/.models/` (fetched by `make model`), fixtures in `<package>/../shared/`.
public enum Fixtures {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the package, or `$RBENCH_SHARED`.
    public static var sharedDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["RBENCH_SHARED"] { return URL(fileURLWithPath: path) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    public static let smolLM2FileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let gemma3FileName = "gemma-3-270m-q4_k_m.gguf"
    public static let qwen05FileName = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    /// `<package>/.models/<name>`.
    public static func model(_ fileName: String) -> URL {
        packageRoot.appendingPathComponent(".models").appendingPathComponent(fileName)
    }

    public static var smolLM2: URL { model(smolLM2FileName) }
    public static var gemma3: URL { model(gemma3FileName) }
    public static var qwen05: URL { model(qwen05FileName) }

    /// True when the file exists, or when running in CI (where a missing model must fail the
    /// test loudly instead of skipping it).
    public static func available(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.path) || ProcessInfo.processInfo.environment["CI"] != nil
    }

    /// `Tests/Fixtures/families/<family>/<file>`: the tiny random model of one architecture family
    /// and its transformers reference (written by `Scripts/families/generate.py`, committed).
    public static func family(_ family: String, _ file: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/families").appendingPathComponent(family)
            .appendingPathComponent(file)
    }

    /// The `tokens.json` of a family fixture: the prompts and the versions that computed the reference.
    public struct FamilyTokens: Decodable {
        public var family: String
        public var tokens: [[Int]]
        public var transformers: String
    }

    public static func familyTokens(_ family: String) throws -> FamilyTokens {
        try JSONDecoder().decode(FamilyTokens.self, from: Data(contentsOf: Self.family(family, "tokens.json")))
    }

    /// `shared/reference/<folder>/<file>`.
    public static func reference(_ folder: String, _ file: String) -> URL {
        sharedDirectory.appendingPathComponent("reference").appendingPathComponent(folder).appendingPathComponent(file)
    }

    public static func loadReferenceArray(_ folder: String, _ file: String) throws -> NPYArray {
        try NPYArray(contentsOf: reference(folder, file))
    }

    /// The `tokens.json` of a reference folder.
    public struct ReferenceTokens: Decodable {
        public var prompts: [String]
        public var tokens: [[Int]]
        public var add_bos: Bool
    }

    public static func referenceTokens(_ folder: String) throws -> ReferenceTokens {
        try JSONDecoder().decode(ReferenceTokens.self, from: Data(contentsOf: reference(folder, "tokens.json")))
    }
}

/// Agreement of a computed vector with a reference one.
public struct Agreement: CustomStringConvertible {
    /// rms(a − b) / rms(b).
    public var relativeRMSError: Double
    public var cosine: Double
    public var maxAbsoluteError: Double

    public init<A: Collection<Float>, B: Collection<Float>>(_ computed: A, reference: B) {
        var diff = 0.0, ref = 0.0, dot = 0.0, na = 0.0, maxAbs = 0.0
        for (a, b) in zip(computed, reference) {
            let x = Double(a), y = Double(b)
            diff += (x - y) * (x - y)
            ref += y * y
            dot += x * y
            na += x * x
            maxAbs = max(maxAbs, abs(x - y))
        }
        relativeRMSError = (diff / max(ref, .leastNormalMagnitude)).squareRoot()
        cosine = dot / max((na * ref).squareRoot(), .leastNormalMagnitude)
        maxAbsoluteError = maxAbs
    }

    /// The tolerance of `shared/reference/README.md`: rms rel ≤ 1e-4 and cosine ≥ 0.99999.
    public var meetsReferenceTolerance: Bool { relativeRMSError <= 1e-4 && cosine >= 0.99999 }

    public var description: String {
        "rms rel \(relativeRMSError), cosine \(cosine), max |Δ| \(maxAbsoluteError)"
    }
}
